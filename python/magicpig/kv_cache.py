"""The caller-owned KV cache of the decode loop.

`Llama.decode` returns only the new key/value rows; appending them into a
buffer allocated once for the whole generation avoids copying the cache on
every step. `keys()` / `values()` are views of the filled part.
"""

import torch


class KVCache:
    def __init__(self, k_prefill, v_prefill, capacity):
        layers, batch, heads, length, dim = k_prefill.shape
        shape = (layers, batch, heads, max(capacity, length), dim)
        self.k = torch.empty(shape, dtype=k_prefill.dtype)
        self.v = torch.empty(shape, dtype=v_prefill.dtype)
        self.k[:, :, :, :length] = k_prefill
        self.v[:, :, :, :length] = v_prefill
        self.length = length

    def keys(self):
        return self.k[:, :, :, :self.length]

    def values(self):
        return self.v[:, :, :, :self.length]

    def append(self, k_new, v_new):
        """k_new, v_new `[layers, B, Hkv, 1, d]`."""
        if self.length >= self.k.shape[3]:
            raise IndexError("KV cache is full")
        self.k[:, :, :, self.length] = k_new[:, :, :, 0]
        self.v[:, :, :, self.length] = v_new[:, :, :, 0]
        self.length += 1
