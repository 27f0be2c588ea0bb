"""CPU benchmark of the compiled MagicPIG kernels (issue: CPU path).

Measures, in one process and one run, at Llama-3.1-8B decode-layer shapes
(Hq=32, Hkv=8, d=128, bf16 K/V, batch 1):
  - this machine's sequential read and random 256-byte-row gather bandwidth,
  - SimHash + table build of one layer, retrieve, estimate, the whole sampled
    decode step, the exact attention compiled by this project, and PyTorch's
    scaled_dot_product_attention on the CPU,
  - each kernel's achieved GB/s on the bytes it must touch.

Kernels are compiled by `magicpig-compile` from small memref-form modules
written below, loaded with ctypes and called through their C entry points.

    python3 bench/cpu_bench.py [--sizes 16384,65536,131072] [--repeats 20]

Writes a markdown table to stdout (and to --output if given).
"""

import argparse
import ctypes
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("MAGICPIG_BUILD_DIR", ROOT / "build"))
COMPILE = BUILD / "bin" / "magicpig-compile"
CLANG = "/usr/lib/llvm-22/bin/clang"
LLVM_LIB = "/usr/lib/llvm-22/lib"

B, HQ, HKV, D = 1, 32, 8, 128
K_BITS, L_TABLES, THRESHOLD, SINK, WINDOW = 10, 150, 2, 4, 64
SCALE = 1.0 / np.sqrt(D)


# ----------------------------------------------------------------------------
# Data: keys with the structure of real caches (documented in
# docs/benchmarks.md): a shared mean per head, a low-rank component, small
# noise, and a few keys planted near each query so attention has heavy hitters.
# ----------------------------------------------------------------------------
def make_inputs(n, seed=0):
    rng = np.random.default_rng(seed)
    rank = 8
    mean = rng.normal(0.0, 2.0, size=(B, HKV, 1, D))
    basis = rng.normal(0.0, 1.0, size=(B, HKV, rank, D)) / np.sqrt(rank)
    coeff = rng.normal(0.0, 1.0, size=(B, HKV, n, rank))
    keys = mean + coeff @ basis + rng.normal(0.0, 0.3, size=(B, HKV, n, D))
    # Values share a per-head mean, as in real caches.
    values = rng.normal(0.0, 1.0, size=(B, HKV, 1, D)) + rng.normal(0.0, 1.0, size=(B, HKV, n, D))
    query = rng.normal(0.0, 1.0, size=(B, HQ, D))
    group = HQ // HKV
    for h in range(HQ):
        g = h // group
        direction = query[0, h] / np.linalg.norm(query[0, h])
        for j in rng.choice(np.arange(SINK, n - WINDOW), size=8, replace=False):
            keys[0, g, j] = mean[0, g, 0] + 6.0 * direction + rng.normal(0, 0.3, D)
    return (query.astype(np.float32), keys.astype(np.float32),
            values.astype(np.float32))


def to_bf16(x):
    """f32 -> bf16 bit patterns (round to nearest even) as uint16."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = bits + 0x7FFF + ((bits >> 16) & 1)
    return (rounded >> 16).astype(np.uint16)


# ----------------------------------------------------------------------------
# ctypes memref descriptors
# ----------------------------------------------------------------------------
_descriptor_types = {}


def descriptor(array):
    rank = array.ndim
    if rank not in _descriptor_types:
        class MemRef(ctypes.Structure):
            _fields_ = [("allocated", ctypes.c_void_p),
                        ("aligned", ctypes.c_void_p),
                        ("offset", ctypes.c_int64),
                        ("sizes", ctypes.c_int64 * rank),
                        ("strides", ctypes.c_int64 * rank)]
        _descriptor_types[rank] = MemRef
    assert array.flags["C_CONTIGUOUS"]
    d = _descriptor_types[rank]()
    d.allocated = d.aligned = array.ctypes.data
    d.offset = 0
    for i in range(rank):
        d.sizes[i] = array.shape[i]
        d.strides[i] = array.strides[i] // array.itemsize
    return d


class Kernel:
    """One compiled function called through _mlir_ciface_<name>."""

    def __init__(self, library, name):
        self.function = getattr(library, "_mlir_ciface_" + name)
        self.function.restype = None

    def bind(self, *arrays):
        descriptors = [descriptor(a) for a in arrays]
        pointers = [ctypes.byref(d) for d in descriptors]
        return lambda: self.function(*pointers), descriptors


# ----------------------------------------------------------------------------
# Kernels (memref form, static shapes per context length)
# ----------------------------------------------------------------------------
def kernels_mlir(n):
    kl = K_BITS * L_TABLES
    buckets = (1 << K_BITS) + 1
    q = f"memref<{B}x{HQ}x{D}xf32>"
    kv = f"memref<{B}x{HKV}x{n}x{D}xbf16>"
    out = f"memref<{B}x{HQ}x{D}xf32>"
    lse = f"memref<{B}x{HQ}xf32>"
    proj = f"memref<{D}x{kl}xf32>"
    kcodes = f"memref<{B}x{HKV}x{n}x{L_TABLES}xi32>"
    qcodes = f"memref<{B}x{HQ}x{L_TABLES}xi32>"
    offsets = f"memref<{B}x{HKV}x{L_TABLES}x{buckets}xi32>"
    indices = f"memref<{B}x{HKV}x{L_TABLES}x{n}xi32>"
    norms = f"memref<{B}x{HKV}x{n}xf32>"
    mean = f"memref<{B}x{HKV}x{D}xf32>"
    cand = f"memref<{B}x{HQ}x{n}xi32>"
    counts = f"memref<{B}x{HQ}xi32>"
    scale = f"{SCALE:.9e}"
    est = (f"magicpig.estimate bits({K_BITS}) tables({L_TABLES}) "
           f"min_collisions({THRESHOLD}) scale({scale}) "
           f"ins(%q, %k, %v, %norms, %mean, %cand, %counts : {q}, {kv}, {kv}, "
           f"{norms}, {mean}, {cand}, {counts}) outs(%o, %l : {out}, {lse})")
    retrieve = (f"magicpig.retrieve bits({K_BITS}) min_collisions({THRESHOLD}) "
                f"ins(%qc, %off, %idx : {qcodes}, {offsets}, {indices}) "
                f"outs(%cand, %counts : {cand}, {counts})")
    qhash = (f"magicpig.simhash bits({K_BITS}) tables({L_TABLES}) "
             f"ins(%q, %p : {q}, {proj}) outs(%qc : {qcodes})")
    return f"""
func.func @exact(%q: {q}, %k: {kv}, %v: {kv}, %o: {out}) {{
  magicpig.attention scale({scale}) ins(%q, %k, %v : {q}, {kv}, {kv}) outs(%o : {out})
  return
}}
func.func @center(%k: {kv}, %c: memref<{B}x{HKV}x{n}x{D}xf32>, %mean: {mean}, %norms: {norms}) {{
  magicpig.center_keys sink({SINK}) window({WINDOW}) ins(%k : {kv}) outs(%c, %mean : memref<{B}x{HKV}x{n}x{D}xf32>, {mean})
  magicpig.key_norms ins(%c : memref<{B}x{HKV}x{n}x{D}xf32>) outs(%norms : {norms})
  return
}}
func.func @hash_and_build(%c: memref<{B}x{HKV}x{n}x{D}xf32>, %p: {proj}, %codes: {kcodes}, %off: {offsets}, %idx: {indices}) {{
  magicpig.simhash bits({K_BITS}) tables({L_TABLES}) ins(%c, %p : memref<{B}x{HKV}x{n}x{D}xf32>, {proj}) outs(%codes : {kcodes})
  magicpig.build_tables bits({K_BITS}) sink({SINK}) window({WINDOW}) ins(%codes : {kcodes}) outs(%off, %idx : {offsets}, {indices})
  return
}}
func.func @hash_query(%q: {q}, %p: {proj}, %qc: {qcodes}) {{
  {qhash}
  return
}}
func.func @retrieve(%qc: {qcodes}, %off: {offsets}, %idx: {indices}, %cand: {cand}, %counts: {counts}) {{
  {retrieve}
  return
}}
func.func @estimate(%q: {q}, %k: {kv}, %v: {kv}, %norms: {norms}, %mean: {mean}, %cand: {cand}, %counts: {counts}, %o: {out}, %l: {lse}) {{
  {est}
  return
}}
func.func @sampled_step(%q: {q}, %k: {kv}, %v: {kv}, %p: {proj}, %off: {offsets}, %idx: {indices}, %norms: {norms}, %mean: {mean},
                        %qc: {qcodes}, %cand: {cand}, %counts: {counts}, %o: {out}, %l: {lse},
                        %ow: {out}, %lw: {lse}, %final: {out}, %lf: {lse}) {{
  {qhash}
  {retrieve}
  {est}
  %ws = arith.constant {n - WINDOW} : index
  magicpig.window_attention sink({SINK}) window_start(%ws) scale({scale}) ins(%q, %k, %v : {q}, {kv}, {kv}) outs(%ow, %lw : {out}, {lse})
  magicpig.merge ins(%o, %l, %ow, %lw : {out}, {lse}, {out}, {lse}) outs(%final, %lf : {out}, {lse})
  return
}}
"""


def compile_module(text, workdir, name):
    source = workdir / f"{name}.mlir"
    library = workdir / f"{name}.so"
    source.write_text(text)
    subprocess.run([str(COMPILE), str(source), "-o", str(library),
                    "--attention=dense", "--quiet"], check=True)
    return ctypes.CDLL(str(library))


def compile_stream(workdir):
    library = workdir / "stream.so"
    subprocess.run([CLANG, "-O3", "-march=native", "-fopenmp", "-shared",
                    "-fPIC", str(ROOT / "bench" / "stream.c"), "-o",
                    str(library), f"-L{LLVM_LIB}", f"-Wl,-rpath,{LLVM_LIB}"],
                   check=True)
    lib = ctypes.CDLL(str(library))
    lib.magicpig_bench_read.restype = ctypes.c_double
    lib.magicpig_bench_gather.restype = ctypes.c_double
    return lib


def timed(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure_bandwidth(stream, repeats):
    data = np.ones(256 * 1024 * 1024 // 4, dtype=np.float32)  # 1 GiB
    seconds = timed(lambda: stream.magicpig_bench_read(
        data.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(data.size)), repeats)
    read_gbs = data.nbytes / seconds / 1e9
    rows = np.random.default_rng(1).integers(
        0, data.size // 64, size=2_000_000).astype(np.int32)
    seconds = timed(lambda: stream.magicpig_bench_gather(
        data.ctypes.data_as(ctypes.c_void_p), rows.ctypes.data_as(ctypes.c_void_p),
        ctypes.c_int64(rows.size), ctypes.c_int64(64)), repeats)
    gather_gbs = rows.size * 256 / seconds / 1e9
    return read_gbs, gather_gbs


def bench_size(n, workdir, repeats, torch):
    query, keys, values = make_inputs(n)
    k16, v16 = to_bf16(keys), to_bf16(values)
    lib = compile_module(kernels_mlir(n), workdir, f"kernels_{n}")
    kl = K_BITS * L_TABLES
    rng = np.random.default_rng(2)
    projection = rng.normal(size=(D, kl)).astype(np.float32)
    buckets = (1 << K_BITS) + 1
    f32, i32 = np.float32, np.int32
    out = np.zeros((B, HQ, D), f32); lse = np.zeros((B, HQ), f32)
    centered = np.zeros((B, HKV, n, D), f32)
    mean = np.zeros((B, HKV, D), f32); norms = np.zeros((B, HKV, n), f32)
    codes = np.zeros((B, HKV, n, L_TABLES), i32)
    offsets = np.zeros((B, HKV, L_TABLES, buckets), i32)
    indices = np.zeros((B, HKV, L_TABLES, n), i32)
    qcodes = np.zeros((B, HQ, L_TABLES), i32)
    cand = np.zeros((B, HQ, n), i32); counts = np.zeros((B, HQ), i32)
    extra = [np.zeros_like(out), np.zeros_like(lse), np.zeros_like(out),
             np.zeros_like(lse)]

    results = {}
    call, _ = Kernel(lib, "center").bind(k16, centered, mean, norms)
    results["center + norms"] = timed(call, max(3, repeats // 4))
    call, _ = Kernel(lib, "hash_and_build").bind(centered, projection, codes,
                                                 offsets, indices)
    results["simhash + build tables"] = timed(call, max(3, repeats // 4))
    call, _ = Kernel(lib, "hash_query").bind(query, projection, qcodes)
    results["hash query"] = timed(call, repeats)
    call, _ = Kernel(lib, "retrieve").bind(qcodes, offsets, indices, cand, counts)
    results["retrieve"] = timed(call, repeats)
    call, _ = Kernel(lib, "estimate").bind(query, k16, v16, norms, mean, cand,
                                           counts, out, lse)
    results["estimate"] = timed(call, repeats)
    call, _ = Kernel(lib, "sampled_step").bind(
        query, k16, v16, projection, offsets, indices, norms, mean, qcodes,
        cand, counts, out, lse, *extra)
    results["whole sampled step"] = timed(call, repeats)
    exact_out = np.zeros_like(out)
    call, _ = Kernel(lib, "exact").bind(query, k16, v16, exact_out)
    results["exact attention (compiled)"] = timed(call, repeats)

    if torch is not None:
        tq = torch.from_numpy(query).to(torch.bfloat16).reshape(B, HQ, 1, D)
        tk = torch.from_numpy(keys).to(torch.bfloat16)
        tv = torch.from_numpy(values).to(torch.bfloat16)
        sdpa = torch.nn.functional.scaled_dot_product_attention
        with torch.no_grad():
            results["PyTorch SDPA (bf16, CPU)"] = timed(
                lambda: sdpa(tq, tk, tv, enable_gqa=True), repeats)

    # Bytes each kernel must touch.
    kv_bytes = 2 * B * HKV * n * D * 2
    group = HQ // HKV
    unique_rows = sum(len(np.unique(np.concatenate(
        [cand[0, h, :counts[0, h]] for h in range(g * group, (g + 1) * group)])))
        for g in range(HKV))
    fraction = float(counts.mean()) / n
    return results, {"exact": kv_bytes, "estimate": unique_rows * D * 2 * 2,
                     "fraction": fraction}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="16384,65536,131072")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--output")
    args = parser.parse_args()
    if not COMPILE.exists():
        sys.exit(f"error: {COMPILE} not found; run scripts/setup.sh first")
    try:
        import torch
        torch.set_num_threads(os.cpu_count())
    except ImportError:
        torch = None
        print("warning: torch not importable; PyTorch SDPA not measured",
              file=sys.stderr)

    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = pathlib.Path(tmp)
        stream = compile_stream(workdir)
        read_gbs, gather_gbs = measure_bandwidth(stream, 5)
        lines.append(f"Sequential read bandwidth: {read_gbs:.1f} GB/s; random "
                     f"256-byte row gather: {gather_gbs:.1f} GB/s "
                     f"({os.cpu_count()} threads)\n")
        for n in [int(s) for s in args.sizes.split(",")]:
            print(f"[bench] N = {n}", file=sys.stderr)
            results, touched = bench_size(n, workdir, args.repeats, torch)
            exact = results["exact attention (compiled)"]
            lines.append(f"\n### N = {n} (retrieved fraction "
                         f"{touched['fraction'] * 100:.2f}%)\n")
            lines.append("| kernel | ms | GB/s | vs compiled exact |")
            lines.append("| --- | ---: | ---: | ---: |")
            for name, seconds in results.items():
                gbs = ""
                if name == "exact attention (compiled)" or name.startswith("PyTorch"):
                    gbs = f"{touched['exact'] / seconds / 1e9:.1f}"
                elif name == "estimate":
                    gbs = f"{touched['estimate'] / seconds / 1e9:.1f}"
                lines.append(f"| {name} | {seconds * 1e3:.2f} | {gbs} | "
                             f"{exact / seconds:.2f}x |")
    text = "\n".join(lines)
    print(text)
    if args.output:
        pathlib.Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
