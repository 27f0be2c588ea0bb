"""`magicpig.compile_model`: a transformers causal LM compiled by
magicpig-compile, with greedy generation.

    import magicpig
    compiled = magicpig.compile_model(model, attention="magicpig", lsh_bits=8)
    new_ids = compiled.generate(input_ids, max_new_tokens=32)

The model is exported once per architecture and config
(`magicpig.hf_export`, cached by `magicpig.graph_cache` under
`$MAGICPIG_CACHE/graphs/`), compiled once per attention and option set,
and run with the model's weights (its `named_parameters()`, the export's
argument order) through `magicpig.compiled` and the decode loop of
`magicpig.generate`.
"""

import types

import numpy as np
import torch

from magicpig.errors import MagicPigError
from magicpig.options import MagicPigOptions


class _WeightsView:
    """What CompiledBackend reads of a model: `config` (layer and head
    counts) and `named_parameters()` (the weights in argument order)."""

    def __init__(self, names, arrays, shape):
        self._named = [(n, torch.from_numpy(a)) for n, a in zip(names, arrays)]
        self.config = types.SimpleNamespace(num_layers=shape.num_layers,
                                            num_heads=shape.num_heads,
                                            num_kv_heads=shape.num_kv_heads,
                                            head_dim=shape.head_dim,
                                            context_length=shape.context_length)

    def named_parameters(self):
        return iter(self._named)


class CompiledCausalLM:
    """A compiled transformers causal LM: `generate(input_ids,
    max_new_tokens)` -> the greedy new token ids (a list of ints)."""

    def __init__(self, model, library, attention, options=None):
        from magicpig.backends import CompiledBackend
        from magicpig.hf_export import ModelShape

        self.shape = ModelShape(model.config)
        self.library = library
        self.attention = attention
        self.options = options
        named = list(model.named_parameters())
        arrays = [p.detach().float().contiguous().numpy() for _, p in named]
        self._weights = _WeightsView([n for n, _ in named], arrays, self.shape)
        self.backend = CompiledBackend(self._weights, library, attention)
        self.eos_token_id = _eos(model)
        self.last_logits = []

    @property
    def sparse_layers(self):
        return self.backend.compiled.sparse_layers

    @property
    def keys_touched(self):
        return self.backend.keys_touched

    def generate(self, input_ids, max_new_tokens, stop_at_eos=False):
        """Greedy decoding of `max_new_tokens` tokens after `input_ids` (a
        list of ints, or a [1, N] / [N] tensor or array); the new ids.
        `stop_at_eos`: stop before the model's eos token. The logits of
        every step are kept in `last_logits`."""
        from magicpig.generate import generate_tokens
        from magicpig.kv_cache import KVCache  # noqa: F401 (the backend's)

        ids = _as_ids(input_ids)
        if not ids:
            raise MagicPigError("generate needs at least one input token")
        if len(ids) + max_new_tokens > self.shape.context_length:
            raise MagicPigError(f"{len(ids)} prompt tokens + {max_new_tokens} new "
                                f"ones exceed the model's context of "
                                f"{self.shape.context_length} tokens")
        if len(ids) < 2:
            raise MagicPigError("the compiled prefill needs a prompt of at least 2 "
                                "tokens")
        self.backend.capacity = len(ids) + max_new_tokens
        seen = []

        def choose(logits):
            seen.append(logits.clone())
            return int(torch.argmax(logits))

        eos = self.eos_token_id if stop_at_eos and self.eos_token_id is not None else -1
        tokens, _, _, _ = generate_tokens(self.backend, ids, max_new_tokens, eos, choose)
        self.last_logits = seen
        return tokens


def _eos(model):
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if eos is None:
        eos = getattr(model.config, "eos_token_id", None)
    if isinstance(eos, (list, tuple)):
        eos = eos[0] if eos else None
    return eos


def _as_ids(input_ids):
    if isinstance(input_ids, torch.Tensor):
        input_ids = input_ids.detach().cpu().numpy()
    if isinstance(input_ids, np.ndarray):
        if input_ids.ndim == 2:
            if input_ids.shape[0] != 1:
                raise MagicPigError("generate runs one sequence (batch 1)")
            input_ids = input_ids[0]
        return [int(x) for x in input_ids]
    return [int(x) for x in input_ids]


def compile_model(model, attention="magicpig", root=None, weight_type="f32",
                  kv_type="f32", **sparsify_options):
    """A transformers PreTrainedModel (a causal LM) compiled with `attention`
    ('magicpig' or 'dense'), the K/V cache's element type `kv_type` ('f32',
    'bf16' or 'f16': magicpig-compile --kv-type) and the MagicPIG options (`lsh_bits`,
    `lsh_tables`, `min_collisions`, `sink_tokens`, `window_tokens`,
    `dense_layers`, `seed`: as --magicpig-sparsify; K and L default to the
    model's head dim's, `MagicPigOptions.for_model`). Exports and compiles
    what is not cached yet (magicpig.graph_cache; `root` overrides its
    folder). `weight_type`: 'f32', or 'bf16' for weight matrices stored as
    bf16 (magicpig-compile --weight-type)."""
    from magicpig.graph_cache import compiled_graph
    from magicpig.hf_export import ModelShape, model_key, write_export

    if attention not in ("magicpig", "dense"):
        raise MagicPigError(f"attention must be 'magicpig' or 'dense', got {attention!r}")
    if kv_type not in ("f32", "bf16", "f16"):
        raise MagicPigError(f"kv_type must be 'f32', 'bf16' or 'f16', got {kv_type!r}")
    if weight_type not in ("f32", "bf16"):
        raise MagicPigError(f"weight_type must be 'f32' or 'bf16', got {weight_type!r}")
    known = {f for f in MagicPigOptions.__dataclass_fields__}
    unknown = sorted(set(sparsify_options) - known)
    if unknown:
        raise MagicPigError(f"unknown sparsify option(s) {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(known))}")
    if "dense_layers" in sparsify_options and sparsify_options["dense_layers"] is not None:
        sparsify_options["dense_layers"] = tuple(sparsify_options["dense_layers"])
    shape = ModelShape(model.config)
    options = MagicPigOptions.for_model(shape.head_dim, **sparsify_options).validate()
    options.dense_layer_set(shape.num_layers)

    def exporter(m, out_dir):
        write_export(m, out_dir, weights=False)

    library = compiled_graph(model, model_key(model), attention, options, root=root,
                             weight_type=weight_type, exporter=exporter,
                             kv_type=kv_type)
    return CompiledCausalLM(model, library, attention, options)
