"""The caller-owned KV cache of the decode loop.

`Llama.decode` returns only the new key/value rows; appending them into a
buffer allocated once for the whole generation avoids copying the cache on
every step. `keys()` / `values()` are views of the filled part (strided:
the buffer's token dimension is its capacity). A full buffer grows by
doubling, so a caller that did not know the length still copies each row
O(1) times on average. With `dtype` (a graph compiled with --kv-type) the
buffers hold the rows rounded to that type (round to nearest even).
"""

import torch


class KVCache:
    def __init__(self, k_prefill, v_prefill, capacity, dtype=None):
        layers, batch, heads, length, dim = k_prefill.shape
        shape = (layers, batch, heads, max(capacity, length), dim)
        self.k = torch.empty(shape, dtype=dtype or k_prefill.dtype)
        self.v = torch.empty(shape, dtype=dtype or v_prefill.dtype)
        self.k[:, :, :, :length] = k_prefill
        self.v[:, :, :, :length] = v_prefill
        self.length = length

    def filled_bytes(self):
        """Bytes of the K and V rows stored so far."""
        row = self.k.shape[0] * self.k.shape[1] * self.k.shape[2] * self.k.shape[4]
        return 2 * self.length * row * self.k.element_size()

    def allocated_bytes(self):
        """Bytes of the K and V buffers (their capacity)."""
        return 2 * self.k.numel() * self.k.element_size()

    def keys(self):
        return self.k[:, :, :, :self.length]

    def values(self):
        return self.v[:, :, :, :self.length]

    def append(self, k_new, v_new):
        """k_new, v_new `[layers, B, Hkv, 1, d]`."""
        if self.length >= self.k.shape[3]:
            self._grow(2 * self.k.shape[3])
        self.k[:, :, :, self.length] = k_new[:, :, :, 0]
        self.v[:, :, :, self.length] = v_new[:, :, :, 0]
        self.length += 1

    def _grow(self, capacity):
        k, v = self.keys(), self.values()
        shape = list(self.k.shape)
        shape[3] = capacity
        self.k = torch.empty(shape, dtype=k.dtype)
        self.v = torch.empty(shape, dtype=v.dtype)
        self.k[:, :, :, :self.length] = k
        self.v[:, :, :, :self.length] = v
