"""Export a transformers causal LM's prefill and decode steps to MLIR.

`export_model(model)` runs the model's own transformers modeling code
(`model(input_ids, position_ids=..., attention_mask=..., past_key_values=...)`,
not a copy of it) under torch.export + torch-mlir and returns one module
with `@prefill` and `@decode` in the ABI of `magicpig.export`
(docs/model-export.md):

    prefill(<weights>, tokens [1, N] i64)
        -> (logits [1, V], k_cache [L, 1, Hkv, N, d], v_cache [L, 1, Hkv, N, d])
    decode(<weights>, token [1, 1] i64, position [] i64,
           k_cache [L, 1, Hkv, M, d], v_cache [L, 1, Hkv, M, d])
        -> (logits [1, V], k_new [L, 1, Hkv, 1, d], v_new [L, 1, Hkv, 1, d])

and

    decode_batch(<weights>, tokens [B, 1] i64, positions [B] i64,
                 k_cache [L, B, Hkv, M, d], v_cache [L, B, Hkv, M, d])
        -> (logits [B, V], k_new [L, B, Hkv, 1, d], v_new [L, B, Hkv, 1, d])

(a padded batch: sequence b owns the rows [0, positions[b]), the padding
mask of `magicpig.llama.padding_mask` hides the rest), with dynamic N, M
and B. The weights are the model's `named_parameters()` in
order (tied weights once). What is done so that the export is plain linalg:

- The KV cache is explicit: a transformers `Cache` whose layers are built
  from the `k_cache` / `v_cache` arguments (`ExplicitCacheLayer`); its
  `update` concatenates the new rows to the past ones (no `index_copy_`,
  which torch-mlir lowers to `tm_tensor.scatter`) and records them, so the
  step returns only the new rows.
- The masks are given, as 4-D additive tensors (transformers returns a 4-D
  mask unchanged), one per layer type for models with sliding-window
  layers: prefill's causal mask is `full(-inf).triu(1)` (no `cumsum`, which
  lowers to `tm_tensor.scan`); decode has none, or for a sliding-window
  layer the window's mask computed from `position`.
- `position_ids` are given (prefill `arange(N)`, decode `position`).
- The buffers (RoPE's non-persistent `inv_freq`, ...) are not module state
  of the exported program but constants (the exported module holds the
  model without registering it), so torch-mlir's importer does not look
  for a state mapping of them.
"""

import torch
from torch import nn

from magicpig.errors import MagicPigError


class ExplicitCacheLayer:
    """One layer of the KV cache as explicit tensors: `update` returns the
    past rows with the new ones appended and remembers the new ones."""

    is_sliding = False
    is_compileable = False
    is_initialized = True

    def __init__(self, keys=None, values=None):
        self.keys, self.values = keys, values
        self.new_keys = self.new_values = None

    def update(self, key_states, value_states, *args, **kwargs):
        self.new_keys, self.new_values = key_states, value_states
        if self.keys is None:
            self.keys, self.values = key_states, value_states
        else:
            self.keys = torch.cat([self.keys, key_states], dim=-2)
            self.values = torch.cat([self.values, value_states], dim=-2)
        return self.keys, self.values

    def get_seq_length(self):
        return 0 if self.keys is None else self.keys.shape[-2]


def _explicit_cache(num_layers, k_cache=None, v_cache=None):
    from transformers.cache_utils import Cache

    layers = [ExplicitCacheLayer(None if k_cache is None else k_cache[i],
                                 None if v_cache is None else v_cache[i])
              for i in range(num_layers)]
    cache = Cache(layers=layers)
    return cache, layers


class ModelShape:
    """The shape facts of a transformers config the export needs."""

    def __init__(self, config):
        text = config.get_text_config() if hasattr(config, "get_text_config") else config
        self.config = text
        self.num_layers = _first(text, "num_hidden_layers", "n_layer")
        self.num_heads = _first(text, "num_attention_heads", "n_head")
        self.num_kv_heads = _first(text, "num_key_value_heads", default=self.num_heads) \
            or self.num_heads
        hidden = _first(text, "hidden_size", "n_embd")
        self.head_dim = getattr(text, "head_dim", None) or hidden // self.num_heads
        self.vocab_size = text.vocab_size
        self.context_length = _first(text, "max_position_embeddings", "n_positions",
                                     default=2048)
        self.layer_types = list(getattr(text, "layer_types", None)
                                or ["full_attention"] * self.num_layers)
        self.sliding_window = getattr(text, "sliding_window", None)
        if "sliding_attention" not in self.layer_types:
            self.sliding_window = None


def _first(config, *names, default=None):
    for name in names:
        value = getattr(config, name, None)
        if value is not None:
            return value
    if default is not None:
        return default
    raise MagicPigError(f"the model config has none of {', '.join(names)}")


def _causal_mask(n):
    """[1, 1, n, n]: 0 where query s sees key j <= s, -inf above."""
    return torch.full((n, n), float("-inf")).triu(1)[None, None]


class _masks_as_given:
    """While the step is traced, transformers' mask builders return the mask
    they are given, and None where they are given none (decode of a layer
    without a window): the implementation's entry is taken out of
    `ALL_MASK_ATTENTION_FUNCTIONS`, which `_preprocess_mask_arguments` reads
    as "this attention needs no mask" before it looks at anything else.
    Built by transformers, the masks would come from `cumsum` and
    `index`-based code (tm_tensor.scan) and, for decode, would be an all-zero
    tensor of dynamic length."""

    def __init__(self, config):
        self.config = config

    def __enter__(self):
        from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS

        self.mapping = ALL_MASK_ATTENTION_FUNCTIONS._global_mapping
        self.key = self.config._attn_implementation
        self.saved = self.mapping.pop(self.key, None)

    def __exit__(self, *exc):
        if self.saved is not None:
            self.mapping[self.key] = self.saved


class _Steps(nn.Module):
    """Holds the model unregistered (its buffers become constants)."""

    def __init__(self, model, shape):
        super().__init__()
        object.__setattr__(self, "model", model)
        self.shape = shape

    def masks(self, full, sliding=None):
        """The mask argument: one tensor, or one per layer type."""
        if "sliding_attention" not in self.shape.layer_types:
            return full
        return {"full_attention": full, "sliding_attention": sliding}

    def run(self, tokens, position_ids, mask, cache):
        with _masks_as_given(self.model.config):
            out = self.model(input_ids=tokens, position_ids=position_ids,
                         attention_mask=mask, past_key_values=cache, use_cache=True,
                             logits_to_keep=1, return_dict=True)
        return out.logits[:, -1, :]


class PrefillStep(_Steps):
    def forward(self, tokens):
        n = tokens.shape[1]
        positions = torch.arange(n, dtype=torch.int64)[None]
        full = _causal_mask(n)
        sliding = None
        if self.shape.sliding_window is not None:
            i = torch.arange(n, dtype=torch.int64)
            far = (i[:, None] - i[None, :]) >= self.shape.sliding_window
            sliding = full.masked_fill(far[None, None], float("-inf"))
        cache, layers = _explicit_cache(self.shape.num_layers)
        logits = self.run(tokens, positions, self.masks(full, sliding), cache)
        return (logits, torch.stack([l.new_keys for l in layers]),
                torch.stack([l.new_values for l in layers]))


class DecodeStep(_Steps):
    def forward(self, token, position, k_cache, v_cache):
        positions = position.reshape(1, 1)
        sliding = None
        if self.shape.sliding_window is not None:
            m = k_cache.shape[3]
            j = torch.arange(m + 1, dtype=torch.int64)
            far = (position - j) >= self.shape.sliding_window
            zeros = torch.zeros(m + 1)
            sliding = zeros.masked_fill(far, float("-inf"))[None, None, None]
        cache, layers = _explicit_cache(self.shape.num_layers, k_cache, v_cache)
        logits = self.run(token, positions, self.masks(None, sliding), cache)
        return (logits, torch.stack([l.new_keys for l in layers]),
                torch.stack([l.new_values for l in layers]))


class DecodeBatchStep(_Steps):
    """One step of a padded batch (docs/ABI.md): sequence b at positions[b]
    owns the cache rows [0, positions[b]); the padding mask hides the rest
    (raised to `lengths`), and for sliding-window layers also the rows
    outside the window (raised to `window(W) lengths`)."""

    def forward(self, tokens, positions, k_cache, v_cache):
        from magicpig.llama import padding_mask

        m = k_cache.shape[3]
        full = padding_mask(positions, m)
        sliding = None
        if self.shape.sliding_window is not None:
            j = torch.arange(m + 1, dtype=torch.int64)[None, :]
            p = positions[:, None]
            seen = ((j < p) & (p - j < self.shape.sliding_window)) | (j >= m)
            sliding = torch.zeros(seen.shape).masked_fill(~seen, float("-inf"))
            sliding = sliding[:, None, None, :]
        cache, layers = _explicit_cache(self.shape.num_layers, k_cache, v_cache)
        logits = self.run(tokens, positions[:, None], self.masks(full, sliding), cache)
        return (logits, torch.stack([l.new_keys for l in layers]),
                torch.stack([l.new_values for l in layers]))


class _WeightsAsArguments(nn.Module):
    """`forward(*weights, *inputs)`: the step with the model's parameters
    replaced by the leading arguments."""

    def __init__(self, step, model, names):
        super().__init__()
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "model", model)
        self.names = names

    def forward(self, *args):
        weights = dict(zip(self.names, args[:len(self.names)]))
        with _parameters_replaced(self.model, weights):
            return self.step(*args[len(self.names):])


class _parameters_replaced:
    def __init__(self, model, weights):
        self.model, self.weights = model, weights

    def __enter__(self):
        from torch.nn.utils.stateless import _reparametrize_module

        self.ctx = _reparametrize_module(self.model, self.weights, tie_weights=True)
        self.ctx.__enter__()

    def __exit__(self, *exc):
        return self.ctx.__exit__(*exc)


def weight_names(model):
    return [name for name, _ in model.named_parameters()]


def weights(model):
    """The model's weights in argument order, as f32 numpy arrays."""
    return [p.detach().float().numpy() for _, p in model.named_parameters()]


def _decomposition_table():
    from magicpig.export import _decomposition_table

    return _decomposition_table()


def _same_size(a, b):
    """Whether two sizes of the traced shapes are the same (equal ints, or
    the same symbolic expression)."""
    if isinstance(a, int) or isinstance(b, int):
        return isinstance(a, int) and isinstance(b, int) and a == b
    return str(a.node.expr) == str(b.node.expr)


def _simplify_shapes(program):
    """Spells the sizes of `expand` and `view` as torch-mlir lowers them to
    plain linalg. transformers writes `expand(b, hkv, n_rep, slen, d)` and
    `view(*input_shape, -1, d)` with sizes read from other tensors: a
    symbolic size that might be 1 makes torch-mlir broadcast through a
    runtime-guarded gather (`tensor.extract` under `select(size == 1, 0, i)`)
    and a -1 through a computed `tensor.reshape`. An expand size equal to the
    input's (the same symbolic expression) becomes -1 (keep), and a view's -1
    whose size the traced output has statically becomes that size: the same
    program, in the spelling torch-mlir turns into a broadcast and an
    expand_shape."""
    aten = torch.ops.aten
    graph = program.graph_module.graph
    for node in graph.nodes:
        if node.op != "call_function":
            continue
        if node.target == aten.expand.default:
            source, sizes = node.args[0], list(node.args[1])
            in_shape = source.meta["val"].shape
            offset = len(sizes) - len(in_shape)
            changed = False
            for i, size in enumerate(sizes):
                j = i - offset
                if j < 0 or isinstance(size, int) and size == -1:
                    continue
                if _same_size(in_shape[j], node.meta["val"].shape[i]):
                    sizes[i] = -1
                    changed = True
            if changed:
                node.args = (source, sizes) + tuple(node.args[2:])
        elif node.target in (aten.view.default, aten._unsafe_view.default,
                             aten.reshape.default):
            sizes = list(node.args[1])
            out_shape = node.meta["val"].shape
            for i, size in enumerate(sizes):
                if isinstance(size, int) and size == -1 and isinstance(out_shape[i], int):
                    sizes[i] = out_shape[i]
            node.args = (node.args[0], sizes) + tuple(node.args[2:])
    graph.lint()
    program.graph_module.recompile()
    return program


def _export(wrapper, weights_, inputs, input_dims, func_name):
    from torch_mlir import fx

    dynamic = None
    if input_dims is not None:
        dynamic = (tuple([None] * len(weights_)) + tuple(input_dims),)
    program = torch.export.export(wrapper, (*weights_, *inputs), dynamic_shapes=dynamic,
                                  strict=False)
    program = _simplify_shapes(program.run_decompositions(_decomposition_table()))
    module = fx.export_and_import(program, output_type="linalg-on-tensors",
                                  func_name=func_name, decomposition_table={})
    return str(module)


def export_model(model, prefill_tokens=16, cache_tokens=16, static=False):
    """MLIR text of one module holding `@prefill`, `@decode` and (unless
    `static`) `@decode_batch`."""
    from torch.export import Dim

    from magicpig.export import decode_batch_trace, merge_modules

    shape = ModelShape(model.config)
    if any(p.dtype != torch.float32 for p in model.parameters()):
        import copy

        model = copy.deepcopy(model).float()  # the graph computes in f32
    model.eval()
    names = weight_names(model)
    params = [p.detach() for _, p in model.named_parameters()]
    cache_shape = (shape.num_layers, 1, shape.num_kv_heads, cache_tokens, shape.head_dim)
    prefill_inputs = (torch.zeros(1, prefill_tokens, dtype=torch.int64),)
    decode_inputs = (torch.zeros(1, 1, dtype=torch.int64),
                     torch.tensor(cache_tokens, dtype=torch.int64),
                     torch.zeros(cache_shape), torch.zeros(cache_shape))
    prefill_dims = decode_dims = None
    if not static:
        prompt = Dim("prompt_tokens", min=2, max=shape.context_length)
        cache = Dim("cache_tokens", min=1, max=shape.context_length - 1)
        prefill_dims = ({1: prompt},)
        decode_dims = (None, None, {3: cache}, {3: cache})
    with torch.no_grad():
        prefill = _export(_WeightsAsArguments(PrefillStep(model, shape), model, names),
                          params, prefill_inputs, prefill_dims, "prefill")
        others = [_export(_WeightsAsArguments(DecodeStep(model, shape), model, names),
                          params, decode_inputs, decode_dims, "decode")]
        if not static:
            batch_inputs, batch_dims = decode_batch_trace(
                shape.num_layers, shape.num_kv_heads, shape.head_dim, cache_tokens, cache)
            others.append(_export(
                _WeightsAsArguments(DecodeBatchStep(model, shape), model, names),
                params, batch_inputs, batch_dims, "decode_batch"))
    return merge_modules(prefill, others)


def manifest(model, static=False, prefill_tokens=16, cache_tokens=16):
    """What a caller needs to drive model.mlir (docs/model-export.md)."""
    s = ModelShape(model.config)
    n = "N" if not static else str(prefill_tokens)
    m = "M" if not static else str(cache_tokens)
    from magicpig.export import EXPORT_FORMAT, decode_batch_manifest

    kv = f"[{s.num_layers}, 1, {s.num_kv_heads}, {{}}, {s.head_dim}] f32"
    result = {
        "format": EXPORT_FORMAT,
        "source": "transformers",
        "architecture": type(model).__name__,
        "config": {"num_layers": s.num_layers, "num_heads": s.num_heads,
                   "num_kv_heads": s.num_kv_heads, "head_dim": s.head_dim,
                   "vocab_size": s.vocab_size, "context_length": s.context_length,
                   "layer_types": s.layer_types, "sliding_window": s.sliding_window,
                   "attn_implementation": model.config._attn_implementation},
        "transformers_config": model.config.to_dict(),
        "weights": [{"name": name, "shape": list(p.shape), "dtype": "f32"}
                    for name, p in model.named_parameters()],
        "dynamic_shapes": not static,
        "functions": {
            "prefill": {
                "arguments": ["<weights>", f"tokens [1, {n}] i64"],
                "results": [f"logits [1, {s.vocab_size}] f32 (last position)",
                            "k_cache " + kv.format(n), "v_cache " + kv.format(n)],
            },
            "decode": {
                "arguments": ["<weights>", "token [1, 1] i64",
                              f"position [] i64 (= {m}, the cache length)",
                              "k_cache " + kv.format(m), "v_cache " + kv.format(m)],
                "results": [f"logits [1, {s.vocab_size}] f32",
                            "k_new " + kv.format(1), "v_new " + kv.format(1)],
            },
        },
    }
    if not static:
        result["functions"]["decode_batch"] = decode_batch_manifest(
            s.num_layers, s.num_kv_heads, s.head_dim, s.vocab_size)
    return result


def write_export(model, out_dir, prefill_tokens=16, cache_tokens=16, static=False,
                 weights=True):
    """DIR/model.mlir, manifest.json and, unless `weights` is false,
    weights.safetensors (f32, under the parameter names)."""
    import json
    import os

    os.makedirs(out_dir, exist_ok=True)
    text = export_model(model, prefill_tokens, cache_tokens, static)
    with open(os.path.join(out_dir, "model.mlir"), "w") as f:
        f.write(text)
    if weights:
        from safetensors.torch import save_file

        save_file({name: p.detach().float().contiguous()
                   for name, p in model.named_parameters()},
                  os.path.join(out_dir, "weights.safetensors"))
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest(model, static, prefill_tokens, cache_tokens), f, indent=2,
                  default=str)


def model_key(model):
    """What the export of `model` depends on (not its weights, which are
    arguments): the class, the config, the attention implementation, the
    transformers version and this exporter's code."""
    import hashlib

    import transformers

    with open(__file__, "rb") as f:
        code = hashlib.sha256(f.read()).hexdigest()[:16]
    return "\n".join(["transformers", type(model).__name__, transformers.__version__,
                      model.config._attn_implementation or "", code,
                      model.config.to_json_string(use_diff=False)])
