"""What runs the model's steps for magicpig.generate.

- `ReferenceBackend`: the PyTorch Llama; with MagicPIG, decode attention of
  the sparse layers is the numpy reference (`magicpig.sparse_decode`).
- `CompiledBackend`: a shared library from `magicpig-compile`
  (`magicpig.compiled`), fed the same weights in export order.

Both expose `prefill(ids) -> logits`, `decode(token) -> logits` (1-D torch
tensors) and `keys_touched` (a `sparse_decode.KeysTouched`).
"""

import torch

from magicpig.kv_cache import KVCache
from magicpig.sparse_decode import KeysTouched, SampledAttention


class ReferenceBackend:
    def __init__(self, model, attention, options, capacity):
        self.model = model
        self.attention = attention
        self.options = options
        self.capacity = capacity
        self.sampled = None
        self.cache = None
        self._dense_stats = KeysTouched()

    @property
    def keys_touched(self):
        return self.sampled.stats if self.sampled else self._dense_stats

    @torch.no_grad()
    def prefill(self, ids):
        logits, k, v = self.model.prefill(torch.tensor([ids], dtype=torch.int64))
        self.cache = KVCache(k, v, self.capacity)
        if self.attention == "magicpig":
            self.sampled = SampledAttention.from_prefill(k, self.model.config,
                                                         self.options)
        return logits[0]

    @torch.no_grad()
    def decode(self, token):
        c = self.model.config
        n = self.cache.length
        logits, k_new, v_new = self.model.decode(
            torch.tensor([[token]], dtype=torch.int64), n, self.cache.keys(),
            self.cache.values(), attention=self.sampled)
        self.cache.append(k_new, v_new)
        if self.sampled is None:  # dense: every layer and head reads all keys
            for _ in range(c.num_layers):
                self._dense_stats.add_dense(c.num_heads, n + 1)
        return logits[0]


class CompiledBackend:
    """A magicpig-compile graph, dense or MagicPIG: prefill returns the KV
    cache and each sparse layer's index, which every decode step takes back
    (docs/ABI.md); the graph's retrieve counts give the keys touched."""

    def __init__(self, model, library, attention=None, capacity=0):
        from magicpig.compiled import load_for_model

        self.config = model.config
        self.compiled = load_for_model(model, library, attention)
        self.attention = self.compiled.attention
        sparse = self.compiled.sparse_layers
        if sparse and not self.compiled.returns_counts:
            self.keys_touched = None  # not measurable: no counts returned
        else:
            self.keys_touched = KeysTouched()
        self.capacity = capacity
        self.cache = None
        self.index = []
        self.prefill_length = 0

    def prefill(self, ids):
        logits, k, v, self.index = self.compiled.prefill([ids])
        self.cache = self.compiled.new_cache(k, v, self.capacity)
        self.prefill_length = len(ids)
        return torch.from_numpy(logits[0])

    def decode(self, token):
        n = self.cache.length
        logits, counts = self.compiled.decode_step(token, self.cache, self.index)
        if self.keys_touched is not None:
            self._count(n + 1, counts)
        return torch.from_numpy(logits[0])

    def _count(self, n, counts):
        """Keys read by this step over a cache of n keys (this token's
        included): all of them in dense layers; in sparse layers the
        retrieved ones, measured by the graph, plus sink and window."""
        c, o = self.config, self.compiled.options
        stats = self.keys_touched
        for _ in range(c.num_layers - len(counts)):
            stats.add_dense(c.num_heads, n)
        for layer_counts in counts:
            stats.add_sampled(c.num_heads, n, self.prefill_length,
                              int(layer_counts.sum()), o["sink-tokens"],
                              o["window-tokens"])
