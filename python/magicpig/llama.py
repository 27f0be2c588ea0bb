"""The project's own Llama in PyTorch, with the KV cache as explicit tensors.

The cache of all layers is two tensors, `k_cache` and `v_cache`, of shape
`[num_layers, batch, num_kv_heads, tokens, head_dim]`; keys are stored after
RoPE. Nothing is kept inside the module between calls, so the same code is
what `magicpig.export` hands to torch.export:

- `prefill(tokens)` runs the prompt from an empty cache and returns the
  logits of the last position and the cache of the prompt;
- `decode(token, position, k_cache, v_cache)` runs one token at `position`
  (= the cache length) and returns its logits and the new key and value rows
  `[num_layers, batch, num_kv_heads, 1, head_dim]`, which the caller appends;
- `decode_batch(tokens, positions, k_cache, v_cache)` runs one token of each
  sequence of a padded batch (each at its own position, its cache rows
  `[0, position)`; `padding_mask` hides the rest).

Attention is written the way Llama code is exported by frameworks, so that
`--magicpig-raise-attention` recognises it: grouped-query heads via
repeat_kv (expand + reshape), `q @ k^T * scale`, softmax in f32, `@ v`.
Prefill adds an explicit bottom-right causal mask (`-inf` above the
diagonal); decode has no mask (one query sees every cached key), and
decode_batch the padding mask.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from magicpig.config import LlamaConfig


def rms_norm(x, weight, eps):
    """x / sqrt(mean(x^2) + eps) * weight, computed in f32."""
    x32 = x.float()
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return x32.to(x.dtype) * weight


def rope_cos_sin(positions, head_dim, theta):
    """cos and sin `[tokens, head_dim]` of the rotate_half RoPE layout."""
    exponents = torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim
    inv_freq = 1.0 / (theta ** exponents)
    freqs = positions.to(torch.float32)[:, None] * inv_freq[None, :]
    angles = torch.cat([freqs, freqs], dim=-1)
    return angles.cos(), angles.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rope(x, cos, sin):
    """x `[B, H, tokens, d]` rotated by the angles of its positions."""
    return x * cos + rotate_half(x) * sin


def repeat_kv(x, groups):
    """`[B, Hkv, N, d]` -> `[B, Hkv * groups, N, d]` (query head h reads kv
    head h // groups), as expand + reshape like the Llama reference code."""
    if groups == 1:
        return x
    b, hkv, n, d = x.shape
    x = x[:, :, None, :, :].expand(-1, -1, groups, -1, -1)
    return x.reshape(b, hkv * groups, n, d)


def causal_mask(query_len, key_len):
    """0 where query s (the last query_len positions) may see key j,
    -inf where j > key_len - query_len + s."""
    mask = torch.full((query_len, key_len), float("-inf"))
    return mask.triu(key_len - query_len + 1)


def padding_mask(positions, cache_len):
    """`[B, 1, 1, cache_len + 1]`: 0 where sequence b sees key j (its own
    rows j < positions[b], and its new key at cache_len), -inf on the
    padding between. Raised to `lengths(positions)` (docs/ABI.md)."""
    j = torch.arange(cache_len + 1, dtype=torch.int64)
    seen = (j[None, :] < positions[:, None]) | (j[None, :] >= cache_len)
    return torch.zeros(seen.shape).masked_fill(~seen, float("-inf"))[:, None, None, :]


def dense_attention(q, k, v, groups, mask=None):
    """softmax(q @ k^T * scale [+ mask]) @ v with GQA; q `[B, Hq, S, d]`,
    k and v `[B, Hkv, N, d]`."""
    scale = 1.0 / math.sqrt(q.shape[-1])
    k = repeat_kv(k, groups)
    v = repeat_kv(v, groups)
    scores = torch.matmul(q, k.transpose(2, 3)) * scale
    if mask is not None:
        scores = scores + mask
    probs = F.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
    return torch.matmul(probs, v)


class LlamaBlock(nn.Module):
    """One decoder layer: pre-norm attention and a SwiGLU MLP."""

    def __init__(self, config: LlamaConfig):
        super().__init__()
        c = config
        self.config = c
        self.attn_norm = nn.Parameter(torch.ones(c.hidden_size))
        self.wq = nn.Parameter(torch.empty(c.num_heads * c.head_dim, c.hidden_size))
        self.wk = nn.Parameter(torch.empty(c.num_kv_heads * c.head_dim, c.hidden_size))
        self.wv = nn.Parameter(torch.empty(c.num_kv_heads * c.head_dim, c.hidden_size))
        self.wo = nn.Parameter(torch.empty(c.hidden_size, c.num_heads * c.head_dim))
        self.ffn_norm = nn.Parameter(torch.ones(c.hidden_size))
        self.w_gate = nn.Parameter(torch.empty(c.intermediate_size, c.hidden_size))
        self.w_up = nn.Parameter(torch.empty(c.intermediate_size, c.hidden_size))
        self.w_down = nn.Parameter(torch.empty(c.hidden_size, c.intermediate_size))

    def qkv(self, x, cos, sin):
        """Projections of x `[B, S, D]` into heads `[B, H, S, d]`, with RoPE
        on q and k."""
        c = self.config
        b, s, _ = x.shape
        h = rms_norm(x, self.attn_norm, c.rms_norm_eps)
        q = F.linear(h, self.wq).view(b, s, c.num_heads, c.head_dim).transpose(1, 2)
        k = F.linear(h, self.wk).view(b, s, c.num_kv_heads, c.head_dim).transpose(1, 2)
        v = F.linear(h, self.wv).view(b, s, c.num_kv_heads, c.head_dim).transpose(1, 2)
        return apply_rope(q, cos, sin), apply_rope(k, cos, sin), v

    def finish(self, x, attn):
        """Output projection, residual, MLP, residual; attn `[B, Hq, S, d]`."""
        c = self.config
        b, _, s, _ = attn.shape
        attn = attn.transpose(1, 2).reshape(b, s, c.num_heads * c.head_dim)
        x = x + F.linear(attn, self.wo)
        h = rms_norm(x, self.ffn_norm, c.rms_norm_eps)
        mlp = F.linear(F.silu(F.linear(h, self.w_gate)) * F.linear(h, self.w_up),
                       self.w_down)
        return x + mlp


class Llama(nn.Module):
    def __init__(self, config: LlamaConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Parameter(torch.empty(config.vocab_size, config.hidden_size))
        self.layers = nn.ModuleList(LlamaBlock(config) for _ in range(config.num_layers))
        self.final_norm = nn.Parameter(torch.ones(config.hidden_size))
        if not config.tie_embeddings:
            self.lm_head = nn.Parameter(torch.empty(config.vocab_size, config.hidden_size))

    def output_weight(self):
        return self.embed if self.config.tie_embeddings else self.lm_head

    def logits(self, x):
        h = rms_norm(x, self.final_norm, self.config.rms_norm_eps)
        return F.linear(h, self.output_weight())

    def _prompt(self, tokens):
        """Runs a prompt from an empty cache: final hidden states
        `[B, N, D]` and the stacked cache."""
        c = self.config
        n = tokens.shape[1]
        cos, sin = rope_cos_sin(torch.arange(n), c.head_dim, c.rope_theta)
        mask = causal_mask(n, n)
        x = F.embedding(tokens, self.embed)
        keys, values = [], []
        for layer in self.layers:
            q, k, v = layer.qkv(x, cos, sin)
            x = layer.finish(x, dense_attention(q, k, v, c.group_size, mask))
            keys.append(k)
            values.append(v)
        return x, torch.stack(keys), torch.stack(values)

    def forward(self, tokens):
        """Logits of every position `[B, N, vocab]` (used by the tests)."""
        x, _, _ = self._prompt(tokens)
        return self.logits(x)

    def prefill(self, tokens):
        """tokens `[B, N]` int64 -> (logits of the last position `[B, vocab]`,
        k_cache, v_cache `[layers, B, Hkv, N, d]`)."""
        x, k_cache, v_cache = self._prompt(tokens)
        return self.logits(x[:, -1, :]), k_cache, v_cache

    def decode(self, token, position, k_cache, v_cache, attention=None):
        """One step: token `[B, 1]` int64 at `position` (an int or a 0-d
        int64 tensor equal to the cache length) -> (logits `[B, vocab]`,
        new key and value rows `[layers, B, Hkv, 1, d]`).

        `attention(layer, q, k, v)` replaces the exact attention of a layer
        (q `[B, Hq, 1, d]`, k and v the whole cache including this token);
        `magicpig.sparse_decode` uses it for the reference MagicPIG path.
        """
        c = self.config
        position = torch.as_tensor(position, dtype=torch.int64).reshape(1)
        cos, sin = rope_cos_sin(position, c.head_dim, c.rope_theta)
        if attention is None:
            def attention(i, q, k, v):
                return dense_attention(q, k, v, c.group_size)
        return self._step(token, cos, sin, k_cache, v_cache, attention)

    def _step(self, tokens, cos, sin, k_cache, v_cache, attention):
        """One token per sequence through every layer, the cache rows
        appended to each layer's cache for `attention(layer, q, k, v)`."""
        x = F.embedding(tokens, self.embed)
        new_keys, new_values = [], []
        for i, layer in enumerate(self.layers):
            q, k, v = layer.qkv(x, cos, sin)
            all_k = torch.cat([k_cache[i], k], dim=2)
            all_v = torch.cat([v_cache[i], v], dim=2)
            x = layer.finish(x, attention(i, q, all_k, all_v))
            new_keys.append(k)
            new_values.append(v)
        return (self.logits(x[:, -1, :]), torch.stack(new_keys),
                torch.stack(new_values))

    def decode_batch(self, tokens, positions, k_cache, v_cache):
        """One step of a padded batch (docs/ABI.md): tokens `[B, 1]` int64,
        positions `[B]` int64, sequence b owning the cache rows
        `[0, positions[b])` of `[layers, B, Hkv, M, d]` (the rest padding,
        never attended) -> (logits `[B, vocab]`, the new rows
        `[layers, B, Hkv, 1, d]`, which the caller writes at row
        positions[b] of its own buffer)."""
        c = self.config
        cos, sin = rope_cos_sin(positions, c.head_dim, c.rope_theta)
        mask = padding_mask(positions, k_cache.shape[3])

        def attention(i, q, k, v):
            return dense_attention(q, k, v, c.group_size, mask)

        return self._step(tokens, cos[:, None, None, :], sin[:, None, None, :],
                          k_cache, v_cache, attention)


def init_random(model: Llama, seed=0):
    """Small random weights (std 0.02 like Llama's initializer) for tests."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.02 * torch.randn(p.shape, generator=generator))
    return model
