"""The two kernels that dominate a compiled prefill, against PyTorch on the
CPU in the same process, at SmolLM2-135M shapes (hidden 576, MLP 1536,
Hq 9, Hkv 3, d 64):

  - a projection of N token rows, C = A W^T with A [1, N, 576] and W
    [1536, 576], as magicpig-contraction-loop-order leaves it and
    magicpig-lower-row-contractions compiles it, vs torch.nn.functional.linear;
    and the same with W passed in bf16 (--weight-type=bf16), vs linear on
    the rounded weights;
  - causal attention of N queries over N keys (magicpig.attention causal,
    the prefill's attention after raising) vs scaled_dot_product_attention
    (is_causal, enable_gqa).

Each is compiled by `magicpig-compile --attention=dense` from a small module
written below, called through its C entry point, checked against PyTorch's
result and timed (best of --repeats, after one warm-up call).

    ~/.cache/magicpig/venv/bin/python bench/prefill_kernels.py [--tokens 4096]
"""

import argparse
import ctypes
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

PROJECTION = """
#a = affine_map<(b, i, j, k) -> (b, i, k)>
#w = affine_map<(b, i, j, k) -> (j, k)>
#c = affine_map<(b, i, j, k) -> (b, i, j)>
func.func @projection(%a: tensor<1x?x576xf32>, %w: tensor<1536x576xf32>) -> tensor<1x?x1536xf32> {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %a, %c1 : tensor<1x?x576xf32>
  %e = tensor.empty(%m) : tensor<1x?x1536xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x?x1536xf32>) -> tensor<1x?x1536xf32>
  %r = linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<1x?x576xf32>, tensor<1536x576xf32>) outs(%z : tensor<1x?x1536xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y fastmath<reassoc,contract> : f32
    %s = arith.addf %acc, %p fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  } -> tensor<1x?x1536xf32>
  return %r : tensor<1x?x1536xf32>
}
"""

ATTENTION = """
func.func @attention(%q: tensor<1x9x?x64xf32>, %k: tensor<1x3x?x64xf32>, %v: tensor<1x3x?x64xf32>) -> tensor<1x9x?x64xf32> {
  %c2 = arith.constant 2 : index
  %s = tensor.dim %q, %c2 : tensor<1x9x?x64xf32>
  %init = tensor.empty(%s) : tensor<1x9x?x64xf32>
  %o = magicpig.attention scale(0.125) causal ins(%q, %k, %v : tensor<1x9x?x64xf32>, tensor<1x3x?x64xf32>, tensor<1x3x?x64xf32>) outs(%init : tensor<1x9x?x64xf32>) -> tensor<1x9x?x64xf32>
  return %o : tensor<1x9x?x64xf32>
}
"""


def compile_function(source, name, directory, compiler, flags=(), library_name=None):
    from magicpig.compiled import entry_point, read_graph_info

    mlir = os.path.join(directory, f"{name}.mlir")
    library = os.path.join(directory, f"{library_name or name}.so")
    with open(mlir, "w") as f:
        f.write(source)
    subprocess.run([compiler, mlir, "-o", library, "--quiet", "--attention=dense",
                    *flags], check=True)
    handle = ctypes.CDLL(library)
    return entry_point(handle, read_graph_info(handle, library)["functions"], name,
                       library)


def best_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tokens", type=int, default=4096)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    import torch

    from magicpig.graph_cache import find_compiler

    compiler = find_compiler()
    n = args.tokens
    rng = np.random.default_rng(0)
    print(f"threads {os.environ.get('OMP_NUM_THREADS', 'all cores')} (torch "
          f"{torch.get_num_threads()}), {n} tokens\n")
    print("| kernel | compiled ms | GFLOP/s | PyTorch ms | GFLOP/s | max abs diff |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as directory:
        projection = compile_function(PROJECTION, "projection", directory, compiler)
        projection_bf16 = compile_function(PROJECTION, "projection", directory, compiler,
                                           ["--weight-type=bf16"], "projection_bf16")
        attention = compile_function(ATTENTION, "attention", directory, compiler)

        a = rng.standard_normal((1, n, 576), dtype=np.float32)
        w = rng.standard_normal((1536, 576), dtype=np.float32)
        flops = 2 * n * 576 * 1536
        ours, (out,) = best_time(lambda: projection(a, w), args.repeats)
        theirs, ref = best_time(lambda: torch.nn.functional.linear(
            torch.from_numpy(a), torch.from_numpy(w)), args.repeats)
        diff = np.abs(out - ref.numpy()).max()
        print(f"| projection [{n}, 576] x [1536, 576]^T | {ours * 1e3:.1f} | "
              f"{flops / ours / 1e9:.0f} | {theirs * 1e3:.1f} | {flops / theirs / 1e9:.0f} "
              f"| {diff:.1e} |")

        # W passed as bf16 and widened in the kernel; PyTorch gets the same
        # rounded weights in f32.
        from magicpig.compiled import to_bf16

        w16 = to_bf16(w)
        w_rounded = torch.from_numpy(w).to(torch.bfloat16).float()
        ours, (out,) = best_time(lambda: projection_bf16(a, w16), args.repeats)
        theirs, ref = best_time(lambda: torch.nn.functional.linear(
            torch.from_numpy(a), w_rounded), args.repeats)
        diff = np.abs(out - ref.numpy()).max()
        print(f"| projection, W in bf16 (--weight-type=bf16) | {ours * 1e3:.1f} | "
              f"{flops / ours / 1e9:.0f} | {theirs * 1e3:.1f} | {flops / theirs / 1e9:.0f} "
              f"| {diff:.1e} |")

        q = rng.standard_normal((1, 9, n, 64), dtype=np.float32)
        k = rng.standard_normal((1, 3, n, 64), dtype=np.float32)
        v = rng.standard_normal((1, 3, n, 64), dtype=np.float32)
        flops = 9 * n * (n + 1) / 2 * 64 * 4  # QK^T and PV over the causal half
        ours, (out,) = best_time(lambda: attention(q, k, v), args.repeats)
        theirs, ref = best_time(lambda: torch.nn.functional.scaled_dot_product_attention(
            *map(torch.from_numpy, (q, k, v)), is_causal=True, scale=0.125,
            enable_gqa=True), args.repeats)
        diff = np.abs(out - ref.numpy()).max()
        print(f"| causal attention, Hq 9, Hkv 3, d 64, {n} x {n} | {ours * 1e3:.1f} | "
              f"{flops / ours / 1e9:.0f} | {theirs * 1e3:.1f} | {flops / theirs / 1e9:.0f} "
              f"| {diff:.1e} |")


if __name__ == "__main__":
    main()
