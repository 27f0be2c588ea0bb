"""MagicPIG decode attention inside the PyTorch decode loop, via the numpy
reference (the `--backend reference` path of magicpig.generate).

After prefill, `SampledAttention.from_prefill` builds each sparse layer's
index from the prefill keys; `Llama.decode(..., attention=sampled)` then
calls it per layer. Dense layers keep exact attention. It also counts the
keys each step touches, for the "fraction of keys touched" figure.
"""

import math

import numpy as np
import torch

from magicpig import reference
from magicpig.llama import dense_attention
from magicpig.projection import simhash_projection


class KeysTouched:
    """Running totals of keys read vs keys in the cache, per query head."""

    def __init__(self):
        self.touched = 0        # all layers
        self.available = 0
        self.sparse_touched = 0  # sparse layers only
        self.sparse_available = 0
        self.retrieved = 0      # sampled keys of the hashed middle
        self.middle = 0         # keys of the hashed middle

    def add_dense(self, heads, n):
        """One exact layer step: every head reads all n keys."""
        self.touched += heads * n
        self.available += heads * n

    def add_sampled(self, heads, n, prefill_length, retrieved, sink, window):
        """One MagicPIG layer step over n keys: `retrieved` keys sampled from
        the hashed middle [S, max(Np - W, S)) (summed over heads), plus the
        sink and the window, which every head reads exactly."""
        start = max(prefill_length - window, sink)
        exact = min(sink, n) + max(n - start, 0)
        touched = retrieved + heads * exact
        self.touched += touched
        self.available += heads * n
        self.sparse_touched += touched
        self.sparse_available += heads * n
        self.retrieved += retrieved
        self.middle += heads * (start - min(sink, start))

    def fraction(self):
        return self.touched / self.available if self.available else 1.0

    def sparse_fraction(self):
        return (self.sparse_touched / self.sparse_available
                if self.sparse_available else 1.0)

    def retrieved_fraction(self):
        return self.retrieved / self.middle if self.middle else 0.0


class SampledAttention:
    def __init__(self, indices, dense_layers, projection, options, group_size):
        self.indices = indices          # {layer: reference.LayerIndex}
        self.dense_layers = dense_layers
        self.projection = projection
        self.options = options
        self.group_size = group_size
        self.stats = KeysTouched()

    @classmethod
    def from_prefill(cls, k_cache, config, options):
        """Index every sparse layer of a prefill cache `[layers, B, Hkv, Np, d]`."""
        dense = options.dense_layer_set(config.num_layers)
        projection = simhash_projection(config.head_dim, options.lsh_bits,
                                        options.lsh_tables, options.seed)
        keys = k_cache.detach().float().numpy()
        indices = {layer: reference.build_index(keys[layer], projection, options)
                   for layer in range(config.num_layers) if layer not in dense}
        return cls(indices, dense, projection, options, config.group_size)

    def __call__(self, layer, q, k, v):
        """q `[B, Hq, 1, d]`, k and v `[B, Hkv, N, d]` -> `[B, Hq, 1, d]`."""
        heads, n = q.shape[0] * q.shape[1], k.shape[2]
        if layer in self.dense_layers:
            self.stats.add_dense(heads, n)
            return dense_attention(q, k, v, self.group_size)
        index = self.indices[layer]
        out, counts = reference.decode_attention(
            q[:, :, 0, :].detach().numpy(), k.detach().numpy(), v.detach().numpy(),
            index, self.projection, self.options, 1.0 / math.sqrt(q.shape[-1]))
        self.stats.add_sampled(heads, n, index.prefill_length, int(counts.sum()),
                               self.options.sink_tokens, self.options.window_tokens)
        return torch.from_numpy(out.astype(np.float32))[:, :, None, :].to(q.dtype)
