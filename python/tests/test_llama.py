"""The PyTorch Llama: cached decoding equals the full forward, GQA, RoPE
permutation, and the MagicPIG reference plugged into its decode loop."""

import numpy as np
import torch

from magicpig import reference as ref
from magicpig.gguf_model import unpermute_rope_rows
from magicpig.kv_cache import KVCache
from magicpig.llama import causal_mask, dense_attention, repeat_kv
from magicpig.options import MagicPigOptions
from magicpig.sparse_decode import SampledAttention


def decode_all(model, tokens, prompt_len, attention_for=None):
    """Prefill tokens[:prompt_len], then decode the rest one by one: the
    logits of every position from prompt_len - 1 on."""
    with torch.no_grad():
        logits, k, v = model.prefill(tokens[:, :prompt_len])
        cache = KVCache(k, v, tokens.shape[1])
        attention = attention_for(k) if attention_for else None
        out = [logits]
        for pos in range(prompt_len, tokens.shape[1]):
            logits, k_new, v_new = model.decode(tokens[:, pos:pos + 1], pos, cache.keys(),
                                                cache.values(), attention=attention)
            cache.append(k_new, v_new)
            out.append(logits)
    return torch.stack(out, dim=1)


def test_prefill_plus_decode_equals_full_forward(tiny):
    tokens = torch.randint(0, tiny.config.vocab_size, (1, 24),
                           generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = tiny(tokens)
    stepped = decode_all(tiny, tokens, prompt_len=10)
    torch.testing.assert_close(stepped, full[:, 9:], atol=1e-5, rtol=1e-5)


def test_prefill_returns_the_cache_shape(tiny):
    c = tiny.config
    logits, k, v = tiny.prefill(torch.zeros(1, 7, dtype=torch.int64))
    assert logits.shape == (1, c.vocab_size)
    assert k.shape == v.shape == (c.num_layers, 1, c.num_kv_heads, 7, c.head_dim)


def test_repeat_kv_maps_query_head_to_its_group():
    x = torch.randn(1, 2, 5, 3)
    torch.testing.assert_close(repeat_kv(x, 3), x.repeat_interleave(3, dim=1))


def test_gqa_attention_matches_numpy_reference():
    q, k, v = torch.randn(1, 4, 6, 8), torch.randn(1, 2, 6, 8), torch.randn(1, 2, 6, 8)
    got = dense_attention(q, k, v, groups=2, mask=causal_mask(6, 6))
    want = ref.dense_attention(q.numpy(), k.numpy(), v.numpy(), 8 ** -0.5, causal=True)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-6)


def llama_cpp_permute(weight, heads):
    """llama.cpp's converter: rotate_half rows -> interleaved pairs."""
    w = weight.reshape(heads, 2, weight.shape[0] // heads // 2, *weight.shape[1:])
    return w.swapaxes(1, 2).reshape(weight.shape)


def test_unpermute_undoes_the_gguf_rope_permutation():
    w = np.arange(2 * 8 * 3, dtype=np.float32).reshape(16, 3)
    np.testing.assert_array_equal(unpermute_rope_rows(llama_cpp_permute(w, 2), 2), w)


def test_complete_sample_decode_matches_dense(tiny):
    """MagicPIG with K=1, L=128, T=1 retrieves every middle key with u ~ 1:
    the reference path must reproduce dense decoding."""
    options = MagicPigOptions(lsh_bits=1, lsh_tables=128, min_collisions=1,
                              sink_tokens=2, window_tokens=4, dense_layers=(-1,))
    tokens = torch.randint(0, tiny.config.vocab_size, (1, 40),
                           generator=torch.Generator().manual_seed(1))
    sampled = []

    def attention_for(k):
        sampled.append(SampledAttention.from_prefill(k, tiny.config, options))
        return sampled[0]

    dense = decode_all(tiny, tokens, prompt_len=32)
    magicpig = decode_all(tiny, tokens, prompt_len=32, attention_for=attention_for)
    torch.testing.assert_close(magicpig, dense, atol=1e-5, rtol=1e-5)
    stats = sampled[0].stats
    assert stats.retrieved_fraction() > 0.99 and stats.fraction() == 1.0


def test_sampled_attention_touches_fewer_keys(tiny):
    options = MagicPigOptions(lsh_bits=6, lsh_tables=8, min_collisions=2,
                              sink_tokens=2, window_tokens=4)
    tokens = torch.randint(0, tiny.config.vocab_size, (1, 200),
                           generator=torch.Generator().manual_seed(2))
    holder = []
    decode_all(tiny, tokens, prompt_len=190, attention_for=lambda k: holder.append(
        SampledAttention.from_prefill(k, tiny.config, options)) or holder[0])
    stats = holder[0].stats
    assert 0 < stats.sparse_fraction() < 0.5
    assert stats.retrieved_fraction() < 0.5
