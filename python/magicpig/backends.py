"""What runs the model's steps for magicpig.generate.

- `ReferenceBackend`: the PyTorch Llama; with MagicPIG, decode attention of
  the sparse layers is the numpy reference (`magicpig.sparse_decode`).
- `CompiledBackend`: a shared library from `magicpig-compile`
  (`magicpig.compiled`), fed the same weights in export order.

Both expose `prefill(ids) -> logits`, `decode(token) -> logits` (1-D torch
tensors) and `keys_touched` (a `sparse_decode.KeysTouched`).
"""

import torch

from magicpig.errors import MagicPigError
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
            touched = c.num_layers * c.num_heads * (n + 1)
            self._dense_stats.touched += touched
            self._dense_stats.available += touched
        return logits[0]


class CompiledBackend:
    def __init__(self, model, library, attention):
        from magicpig.compiled import CompiledModel

        if attention != "dense":
            # The exported prefill masks with a dynamic-shape causal mask,
            # which --magicpig-raise-attention declines, so a compiled prefill
            # cannot build the MagicPIG index yet (docs/model-export.md).
            raise MagicPigError("--backend compiled supports only --attention dense "
                                "for now (the compiled prefill cannot build the "
                                "MagicPIG index yet); use --backend reference")
        if not library:
            raise MagicPigError("--backend compiled needs --library MODEL.so "
                                "(see docs/model-export.md)")
        self.config = model.config
        self.compiled = CompiledModel(library, model.config,
                                      [p.detach().numpy() for p in model.parameters()])
        self.keys_touched = KeysTouched()
        self.k = self.v = None

    def prefill(self, ids):
        logits, self.k, self.v, _ = self.compiled.prefill([ids])
        return torch.from_numpy(logits[0])

    def decode(self, token):
        import numpy as np

        c = self.config
        n = self.k.shape[3]
        logits, k_new, v_new = self.compiled.decode([[token]], n, self.k, self.v)
        self.k = np.concatenate([self.k, k_new], axis=3)
        self.v = np.concatenate([self.v, v_new], axis=3)
        touched = c.num_layers * c.num_heads * (n + 1)
        self.keys_touched.touched += touched
        self.keys_touched.available += touched
        return torch.from_numpy(logits[0])
