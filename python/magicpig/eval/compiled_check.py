"""The compiled MagicPIG path on the captured caches, against the reference.

One attention layer with SmolLM2's shapes (Hq = 9, Hkv = 3, d = 64, dynamic
cache length) is exported by torch-mlir as two functions, written as Llama
code writes attention (repeat_kv, `q @ k^T * scale`, softmax, `@ v`):

    prefill(q [1, Hq, 2, d], k [1, Hkv, N, d], v [1, Hkv, N, d])
    decode(q [1, Hq, 1, d], k [1, Hkv, M, d], v [1, Hkv, M, d])

`magicpig-compile` raises both attentions, sparsifies them (the prefill one
builds the index of its keys and returns the four index buffers,
docs/ABI.md) and compiles a shared library. The check feeds it the
captured keys and values of real layers: prefill on the first Np keys
(its query is irrelevant, only the index is used), then decode of each
captured query with the cache up to its position; the outputs and their
relative errors against exact attention are compared with
`methods.magicpig` (the numpy reference) on the same inputs.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

from magicpig.cache_io import atomic_output, cache_writes, write_atomic
from magicpig.cli import progress
from magicpig.compiled import entry_point, read_graph_info
from magicpig.errors import MagicPigError
from magicpig.eval import methods

PREFILL_QUERIES = 2  # a query-length dim other than 1 marks the prefill attention


def export_layer_mlir(hq, hkv, d, max_tokens):
    """MLIR text of the one-layer prefill/decode module."""
    import torch
    from torch.export import Dim
    from torch_mlir import fx, ir
    from torch_mlir.extras.fx_decomp_util import get_decomposition_table

    from magicpig.llama import repeat_kv

    group = hq // hkv

    class Attention(torch.nn.Module):
        def forward(self, q, k, v):
            k, v = repeat_kv(k, group), repeat_kv(v, group)
            scores = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(d))
            probs = torch.softmax(scores.float(), dim=-1)
            return torch.matmul(probs, v)

    # The matmul decomposition hides attention behind runtime-guarded
    # broadcasts (docs/model-export.md); keep torch-mlir's own lowering.
    table = {op: fn for op, fn in get_decomposition_table().items()
             if "matmul" not in str(op)}
    texts = []
    for name, q_len in (("prefill", PREFILL_QUERIES), ("decode", 1)):
        tokens = Dim(f"{name}_tokens", min=2, max=max_tokens)
        args = (torch.zeros(1, hq, q_len, d), torch.zeros(1, hkv, 16, d),
                torch.zeros(1, hkv, 16, d))
        module = fx.export_and_import(Attention(), *args, output_type="linalg-on-tensors",
                                      func_name=name,
                                      dynamic_shapes=(None, {2: tokens}, {2: tokens}),
                                      decomposition_table=table)
        texts.append(str(module))
    context = ir.Context()
    merged = ir.Module.parse(texts[0], context)
    source = ir.Module.parse(texts[1], context)
    for op in list(source.body.operations):
        merged.body.append(op)
    text = str(merged)
    del merged, source
    return text


def compile_layer(mlir_path, library, compiler, options):
    o = options
    flags = ["--quiet", "--attention=magicpig",
             f"--lsh-bits={o.lsh_bits}", f"--lsh-tables={o.lsh_tables}",
             f"--min-collisions={o.min_collisions}", f"--sink-tokens={o.sink_tokens}",
             f"--window-tokens={o.window_tokens}", f"--seed={o.seed}",
             "--dense-layers=-1"]
    shown = " ".join([compiler, mlir_path, "-o", library, *flags])
    start = time.perf_counter()
    # Its own temporary, renamed when complete: a parallel run or a full
    # disk never leaves a half-written library at `library`.
    with cache_writes(library), atomic_output(library, suffix=".so") as partial:
        result = subprocess.run([compiler, mlir_path, "-o", partial, *flags],
                                capture_output=True, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stderr[-2000:])
            raise MagicPigError(f"{shown} failed (exit {result.returncode}); see its "
                                f"messages above")
    return shown, time.perf_counter() - start


class CompiledLayer:
    def __init__(self, library):
        import ctypes

        self.library = ctypes.CDLL(os.path.abspath(library))
        # The result lists come from the graph's own description: prefill
        # returns out + offsets, indices, norms, mean; decode returns out and,
        # with return-counts, the retrieve count per query head.
        functions = read_graph_info(self.library, library)["functions"]
        self.prefill = entry_point(self.library, functions, "prefill", library)
        self.decode = entry_point(self.library, functions, "decode", library)

    def build_index(self, k, v):
        """k, v `[Hkv, Np, d]` -> the four index buffers."""
        hq_dummy = np.zeros((1, self.hq, PREFILL_QUERIES, k.shape[-1]), np.float32)
        return self.prefill(hq_dummy, k[None].astype(np.float32),
                            v[None].astype(np.float32))[1:]

    def attend(self, q, k, v, index):
        """(out `[Hq, d]`, retrieve counts `[Hq]` or None)."""
        results = self.decode(q[None, :, None, :].astype(np.float32),
                              k[None].astype(np.float32), v[None].astype(np.float32),
                              *index)
        counts = results[1][0] if len(results) > 1 else None
        return results[0][0, :, 0, :], counts


def check(capture, layers, options, library):
    """Per (layer, query, head): reference vs compiled output and error, in
    this process."""
    from magicpig import reference
    from magicpig.projection import simhash_projection

    hq, d = capture.queries.shape[1], capture.queries.shape[3]
    layer_graph = CompiledLayer(library)
    layer_graph.hq = hq
    projection = simhash_projection(d, options.lsh_bits, options.lsh_tables, options.seed)
    np_len = capture.prefill_length
    rows = []
    for layer in layers:
        keys = capture.keys[layer, :, :np_len]
        compiled_index = layer_graph.build_index(keys, capture.values[layer, :, :np_len])
        ref_index = reference.build_index(keys[None], projection, options)
        for i in range(capture.queries.shape[2]):
            q, k, v = capture.decode_view(layer, i)
            truth = methods.exact(q, k, v)[0]
            ref_out, ref_touched = methods.magicpig(q, k, v, ref_index, projection, options)
            comp_out, comp_counts = layer_graph.attend(q, k, v, compiled_index)
            start = reference.window_start(ref_index, options)
            exact_keys = min(options.sink_tokens, k.shape[1]) + max(k.shape[1] - start, 0)
            ref_err = methods.relative_error(ref_out, truth)
            comp_err = methods.relative_error(comp_out.astype(np.float64), truth)
            diff = methods.relative_error(comp_out.astype(np.float64), ref_out)
            for h in range(hq):
                rows.append({"layer": layer, "query": i, "head": h,
                             "ref_err": float(ref_err[h]), "compiled_err": float(comp_err[h]),
                             "compiled_vs_ref": float(diff[h]),
                             "touched": int(ref_touched[h]),
                             "compiled_touched": (None if comp_counts is None else
                                                  int(comp_counts[h]) + exact_keys)})
    return rows


def run(capture_path, capture, layers, options, workdir, compiler):
    """Exports and compiles the layer graph, then runs `check` in a child
    process (a fault in the compiled code is reported, not fatal)."""
    hq, d = capture.queries.shape[1], capture.queries.shape[3]
    hkv = capture.keys.shape[1]
    os.makedirs(workdir, exist_ok=True)
    mlir = os.path.join(workdir, f"layer_h{hq}_kv{hkv}_d{d}.mlir")
    if not os.path.isfile(mlir):
        progress(f"exporting the one-layer graph to {mlir}")
        text = export_layer_mlir(hq, hkv, d, 16384)
        with cache_writes(mlir):
            write_atomic(mlir, text)
    library = os.path.join(workdir, f"layer_K{options.lsh_bits}_L{options.lsh_tables}"
                                    f"_T{options.min_collisions}_S{options.sink_tokens}"
                                    f"_W{options.window_tokens}_seed{options.seed}.so")
    progress(f"compiling {os.path.basename(library)}")
    command, seconds = compile_layer(mlir, library, compiler, options)
    out_json = os.path.join(workdir, "check.json")
    if os.path.exists(out_json):
        os.remove(out_json)
    o = options
    cmd = [sys.executable, "-m", "magicpig.eval.compiled_check", "--capture", capture_path,
           "--library", library, "--layers", ",".join(map(str, layers)),
           "--options", json.dumps([o.lsh_bits, o.lsh_tables, o.min_collisions,
                                    o.sink_tokens, o.window_tokens, o.seed]),
           "--out", out_json]
    progress(f"running the compiled layer on {len(layers)} captured layers")
    result = subprocess.run(cmd, capture_output=True, text=True)
    outcome = {"command": command, "compile_seconds": seconds, "length": capture.length,
               "options": [o.lsh_bits, o.lsh_tables], "layers": list(layers)}
    if result.returncode != 0 or not os.path.isfile(out_json):
        outcome["failure"] = (f"the compiled layer exited with status {result.returncode}"
                              f"{' (signal ' + str(-result.returncode) + ')' if result.returncode < 0 else ''}"
                              f": {result.stderr.strip()[-500:]}")
        outcome["rows"] = []
        return outcome
    with open(out_json) as f:
        outcome["rows"] = json.load(f)
    return outcome


def _worker(argv=None):
    from magicpig.eval.capture import Capture
    from magicpig.options import MagicPigOptions

    p = argparse.ArgumentParser()
    p.add_argument("--capture", required=True)
    p.add_argument("--library", required=True)
    p.add_argument("--layers", required=True)
    p.add_argument("--options", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    z = np.load(a.capture)
    cap = Capture(z["keys"], z["values"], z["queries"], z["logits"])
    options = MagicPigOptions(*json.loads(a.options))
    rows = check(cap, [int(x) for x in a.layers.split(",")], options, a.library)
    write_atomic(a.out, json.dumps(rows))


if __name__ == "__main__":
    _worker()
