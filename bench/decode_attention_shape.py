"""Compiled exact decode attention at one layer shape, f32 vs bf16 K/V.

    python3 bench/decode_attention_shape.py [--keys 8192] [--query-heads 4] \\
        [--kv-heads 1] [--head-dim 256] [--repeats 20]

Compiles a one-op module (`magicpig.attention` on a [1, Hq, d] query over a
[1, Hkv, N, d] cache) with magicpig-compile for each cache type, calls it
through its C entry point and prints the time per call and the GB/s on the
K/V bytes read, the two types interleaved three times; the load average is
printed first. Gemma 3 270M's global layers: the defaults; Llama-3.1-8B's:
--query-heads 32 --kv-heads 8 --head-dim 128.
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
COMPILE = pathlib.Path(os.environ.get("MAGICPIG_BUILD_DIR", ROOT / "build")) / "bin" / "magicpig-compile"


def module(hq, hkv, d, element):
    q, kv = f"tensor<1x{hq}x{d}xf32>", f"tensor<1x{hkv}x?x{d}x{element}>"
    return f"""
func.func @decode(%q: {q}, %k: {kv}, %v: {kv}) -> {q} {{
  %init = tensor.empty() : {q}
  %o = magicpig.attention scale({1 / np.sqrt(d)}) ins(%q, %k, %v : {q}, {kv}, {kv}) outs(%init : {q}) -> {q}
  return %o : {q}
}}"""


def main():
    from magicpig.compiled import CompiledFunction, to_bf16

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keys", type=int, default=8192)
    p.add_argument("--query-heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=1)
    p.add_argument("--head-dim", type=int, default=256)
    p.add_argument("--repeats", type=int, default=20)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, a.query_heads, a.head_dim), dtype=np.float32)
    k = rng.standard_normal((1, a.kv_heads, a.keys, a.head_dim), dtype=np.float32)
    v = rng.standard_normal((1, a.kv_heads, a.keys, a.head_dim), dtype=np.float32)
    inputs = {"f32": (q, k, v), "bf16": (q, to_bf16(k), to_bf16(v))}
    functions = {}
    with tempfile.TemporaryDirectory() as tmp:
        for element in inputs:
            source, library = f"{tmp}/{element}.mlir", f"{tmp}/{element}.so"
            with open(source, "w") as f:
                f.write(module(a.query_heads, a.kv_heads, a.head_dim, element))
            subprocess.run([str(COMPILE), source, "--attention=dense", "-o", library,
                            "--quiet"], check=True)
            functions[element] = CompiledFunction(ctypes.CDLL(library), "decode",
                                                  [(3, np.float32)])
        print(f"# load average {os.getloadavg()[0]:.2f}; N={a.keys} Hq={a.query_heads} "
              f"Hkv={a.kv_heads} d={a.head_dim}")
        for _ in range(3):
            for element, fn in functions.items():
                fn(*inputs[element])
                start = time.perf_counter()
                for _ in range(a.repeats):
                    fn(*inputs[element])
                ms = (time.perf_counter() - start) / a.repeats * 1e3
                size = 4 if element == "f32" else 2
                kv_bytes = 2 * a.kv_heads * a.keys * a.head_dim * size
                print(f"{element:>5}: {ms:8.3f} ms  {kv_bytes / ms / 1e6:6.1f} GB/s")


if __name__ == "__main__":
    main()
