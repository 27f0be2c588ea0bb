"""`python3 -m magicpig.eval`: the accuracy evaluation of MagicPIG on SmolLM2.

One idea per module:

- `corpus`: long real text from files Debian ships (licenses, changelogs).
- `capture`: prefill of the PyTorch Llama that keeps the KV cache and the
  queries of the last positions (the "captured caches").
- `methods`: the selection methods on one decode query (exact, MagicPIG via
  the numpy reference, oracle TopK, Quest, oracle sampling), each returning
  its output and the keys it touched.
- `layer_error`: relative L2 error per layer and head at matched, measured
  budgets, and the (K, L) sweep that picks this model's defaults.
- `compiled_check`: the same captured caches through a layer graph compiled
  by magicpig-compile, against the numpy reference.
- `decode_methods`: TopK / Quest attention inside `Llama.decode`.
- `perplexity`, `needle`: the end-to-end measures.
- `report`: docs/accuracy.md and its PNG plots.
"""
