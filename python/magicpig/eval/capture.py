"""Prefill that captures the KV cache and the decode queries.

The model's own `Llama.prefill` materializes every `[N, N]` score matrix,
which at 8K tokens is slow and takes gigabytes; this runs the same layers
(`LlamaBlock.qkv` / `finish`) with `scaled_dot_product_attention(...,
is_causal=True)` instead (the same math, checked against `Llama.forward` in
python/tests/test_eval.py), and keeps, besides the cache, the queries of the
last `queries` positions of every layer. Those are the queries a decode step
at those positions would issue: the query at position p sees the keys
[0, p], so `Capture.decode_view(layer, i)` gives it with exactly that cache.
"""

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F

from magicpig.llama import repeat_kv, rope_cos_sin


@dataclasses.dataclass
class Capture:
    keys: np.ndarray     # [layers, Hkv, N, d] f32, after RoPE, not centered
    values: np.ndarray   # [layers, Hkv, N, d] f32
    queries: np.ndarray  # [layers, Hq, nq, d] f32, positions N - nq .. N - 1
    logits: np.ndarray   # [vocab] f32, of the last position

    @property
    def length(self):
        return self.keys.shape[2]

    @property
    def prefill_length(self):
        """Np: the cache the index is built on (everything before the
        captured queries)."""
        return self.length - self.queries.shape[2]

    def decode_view(self, layer, i):
        """(q `[Hq, d]`, k, v `[Hkv, p + 1, d]`) of captured query i at
        position p = Np + i."""
        p = self.prefill_length + i
        return (self.queries[layer, :, i], self.keys[layer, :, :p + 1],
                self.values[layer, :, :p + 1])


@torch.no_grad()
def prefill(model, ids, queries=0, all_logits=False):
    """Runs `ids` (a list of token ids) from an empty cache. Returns a
    Capture (batch 1 dropped); with `all_logits`, also the logits of every
    position `[N, vocab]`."""
    c = model.config
    tokens = torch.tensor([ids], dtype=torch.int64)
    n = tokens.shape[1]
    cos, sin = rope_cos_sin(torch.arange(n), c.head_dim, c.rope_theta)
    x = F.embedding(tokens, model.embed)
    keys, values, qs = [], [], []
    for layer in model.layers:
        q, k, v = layer.qkv(x, cos, sin)
        attn = F.scaled_dot_product_attention(q, repeat_kv(k, c.group_size),
                                              repeat_kv(v, c.group_size), is_causal=True)
        x = layer.finish(x, attn)
        keys.append(k[0])
        values.append(v[0])
        qs.append(q[0, :, n - queries:] if queries else q[0, :, :0])
    logits = model.logits(x[:, -1, :])[0]
    cap = Capture(torch.stack(keys).numpy(), torch.stack(values).numpy(),
                  torch.stack(qs).numpy(), logits.numpy())
    if all_logits:
        return cap, model.logits(x)[0].numpy()
    return cap


def to_torch_cache(capture, length=None):
    """k_cache, v_cache `[layers, 1, Hkv, n, d]` torch tensors of the first
    `length` tokens (default all), for Llama.decode."""
    n = capture.length if length is None else length
    k = torch.from_numpy(np.ascontiguousarray(capture.keys[:, None, :, :n]))
    v = torch.from_numpy(np.ascontiguousarray(capture.values[:, None, :, :n]))
    return k, v
