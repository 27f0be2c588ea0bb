"""GPU benchmark of one MagicPIG decode layer (issue 5).

At Llama-3.1-8B decode-layer shapes (Hq=32, Hkv=8, d=128, bf16 K/V), for
each context N and batch B, in one run:
  - the heterogeneous sampled layer compiled by this project's
    --magicpig-cuda-pipeline (query SimHash, window attention and merge on
    the GPU; retrieve and estimate on the host, overlapped with the window
    attention), and its two halves timed alone: the host part (retrieve +
    estimate, on query codes computed beforehand) and the device part (query SimHash + window attention +
    merge, with their transfers), so the table shows how much host work
    the device work hides;
  - the exact attention compiled by this project for the GPU
    (magicpig.attention; it copies the whole K/V to the device every call,
    see docs/GPU.md);
  - PyTorch's scaled_dot_product_attention on CUDA, with K/V resident on the
    device, and with K/V uploaded from host memory each call (the
    like-for-like comparison with the project's exact kernel).

The project's kernels run in magicpig-run: the script writes a memref-form
module per (N, B) with a timing driver (@main, magicpigNanoTime around each
call, the readings printed), compiles it with magicpig-opt
--magicpig-cuda-pipeline and runs it with magicpig-run.

    python3 bench/gpu_bench.py [--sizes 16384,65536,131072] [--batches 1,4,16]
                               [--repeats 10] [--chip sm_90] [--output F]
    python3 bench/gpu_bench.py --compile-only    # no GPU needed

Without a CUDA device (and without --compile-only) it stops at once with
one line. MAGICPIG_BUILD_DIR selects the build (default: build/).
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("MAGICPIG_BUILD_DIR", ROOT / "build"))
OPT = BUILD / "bin" / "magicpig-opt"
RUN = BUILD / "bin" / "magicpig-run"
CUDA_RUNTIME = BUILD / "lib" / "libmagicpig_cuda_runtime.so"

HQ, HKV, D = 32, 8, 128
K_BITS, L_TABLES, THRESHOLD, SINK, WINDOW = 10, 150, 2, 4, 64
SCALE = 1.0 / D ** 0.5

# The timed functions of the driver, in the order they are printed.
TIMED = ("exact", "step", "host", "device")


def fail(message):
    print(f"gpu_bench: {message}", file=sys.stderr)
    sys.exit(2)


def cuda_device_count():
    """magicpigCudaDeviceCount() of the project's runtime, in a child process
    (as lit's probe), so a broken driver cannot take this process down."""
    if not CUDA_RUNTIME.exists():
        return 0, f"{CUDA_RUNTIME} not built"
    probe = ("import ctypes, sys; "
             "print(ctypes.CDLL(sys.argv[1]).magicpigCudaDeviceCount())")
    try:
        result = subprocess.run([sys.executable, "-c", probe,
                                 str(CUDA_RUNTIME)], capture_output=True,
                                text=True, timeout=120)
        return int(result.stdout.strip() or 0), "no CUDA driver or device"
    except (OSError, ValueError, subprocess.SubprocessError) as error:
        return 0, str(error)


# ----------------------------------------------------------------------------
# The module: kernels in memref form (static shapes per N, B) and a driver.
# ----------------------------------------------------------------------------
def fill_function(name, memref, rank, element):
    """A pseudo-random fill in [-1, 1): a hash of the flat index and a seed
    (integer ops only, so filling 8 GB stays fast)."""
    dims = ", ".join(f"d{i}" for i in range(rank))
    iterators = ", ".join(['"parallel"'] * rank)
    shape = [int(s) for s in memref[len("memref<"):].split("x")[:-1]]
    lines = [f"  %i{i} = linalg.index {i} : index" for i in range(rank)]
    flat = "%i0"
    for i in range(1, rank):
        lines.append(f"  %s{i} = arith.constant {shape[i]} : index")
        lines.append(f"  %m{i} = arith.muli {flat}, %s{i} : index")
        lines.append(f"  %f{i} = arith.addi %m{i}, %i{i} : index")
        flat = f"%f{i}"
    store = (f"  %y = arith.truncf %x : f32 to {element}\n  linalg.yield %y : {element}"
             if element != "f32" else "  linalg.yield %x : f32")
    body = "\n".join(lines)
    return f"""
func.func @{name}(%m: {memref}, %seed: i32) {{
  linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>],
                  iterator_types = [{iterators}]}} outs(%m : {memref}) {{
  ^bb0(%old: {element}):
{body}
  %flat = arith.index_cast {flat} : index to i32
  %golden = arith.constant -1640531535 : i32
  %h0 = arith.muli %flat, %golden : i32
  %h1 = arith.xori %h0, %seed : i32
  %c15 = arith.constant 15 : i32
  %sh = arith.shrui %h1, %c15 : i32
  %h2 = arith.xori %h1, %sh : i32
  %h3 = arith.muli %h2, %golden : i32
  %c16 = arith.constant 16 : i32
  %h4 = arith.shrui %h3, %c16 : i32
  %u = arith.uitofp %h4 : i32 to f32
  %inv = arith.constant 3.0517578125e-05 : f32
  %one = arith.constant 1.0 : f32
  %scaled = arith.mulf %u, %inv : f32
  %x = arith.subf %scaled, %one : f32
{store}
  }}
  return
}}
"""


def module_text(n, b, repeats):
    kl = K_BITS * L_TABLES
    buckets = (1 << K_BITS) + 1
    q = f"memref<{b}x{HQ}x{D}xf32>"
    kv = f"memref<{b}x{HKV}x{n}x{D}xbf16>"
    centered = f"memref<{b}x{HKV}x{n}x{D}xf32>"
    out = f"memref<{b}x{HQ}x{D}xf32>"
    lse = f"memref<{b}x{HQ}xf32>"
    proj = f"memref<{D}x{kl}xf32>"
    kcodes = f"memref<{b}x{HKV}x{n}x{L_TABLES}xi32>"
    qcodes = f"memref<{b}x{HQ}x{L_TABLES}xi32>"
    offsets = f"memref<{b}x{HKV}x{L_TABLES}x{buckets}xi32>"
    indices = f"memref<{b}x{HKV}x{L_TABLES}x{n}xi32>"
    norms = f"memref<{b}x{HKV}x{n}xf32>"
    mean = f"memref<{b}x{HKV}x{D}xf32>"
    cand = f"memref<{b}x{HQ}x{n}xi32>"
    counts = f"memref<{b}x{HQ}xi32>"
    scale = f"{SCALE:.9e}"
    qhash = (f"magicpig.simhash bits({K_BITS}) tables({L_TABLES}) "
             f"ins(%q, %p : {q}, {proj}) outs(%qc : {qcodes})")
    retrieve = (f"magicpig.retrieve bits({K_BITS}) min_collisions({THRESHOLD}) "
                f"ins(%qc, %off, %idx : {qcodes}, {offsets}, {indices}) "
                f"outs(%cand, %counts : {cand}, {counts})")
    estimate = (f"magicpig.estimate bits({K_BITS}) tables({L_TABLES}) "
                f"min_collisions({THRESHOLD}) scale({scale}) "
                f"ins(%q, %k, %v, %norms, %mean, %cand, %counts : {q}, {kv}, "
                f"{kv}, {norms}, {mean}, {cand}, {counts}) "
                f"outs(%o, %l : {out}, {lse})")
    window = (f"%ws = arith.constant {max(n - WINDOW, 0)} : index\n"
              f"  magicpig.window_attention sink({SINK}) window_start(%ws) "
              f"scale({scale}) ins(%q, %k, %v : {q}, {kv}, {kv}) "
              f"outs(%ow, %lw : {out}, {lse})")
    merge = (f"magicpig.merge ins(%o, %l, %ow, %lw : {out}, {lse}, {out}, "
             f"{lse}) outs(%final, %lf : {out}, {lse})")
    # The intermediates are allocated inside each timed function, as in a
    # sparsified decode graph: function arguments may alias each other, so a
    # host op writing one would have to wait for a device op reading another
    # (docs/GPU.md, overlap), and nothing would overlap.
    step_args = (f"%q: {q}, %k: {kv}, %v: {kv}, %p: {proj}, %off: {offsets}, "
                 f"%idx: {indices}, %norms: {norms}, %mean: {mean}, "
                 f"%final: {out}, %lf: {lse}, %counts_out: {counts}")
    step_values = ("%q, %k, %v, %p, %off, %idx, %norms, %mean, %final, %lf, "
                   "%counts")
    step_types = (f"{q}, {kv}, {kv}, {proj}, {offsets}, {indices}, {norms}, "
                  f"{mean}, {out}, {lse}, {counts}")
    locals_ = [("qc", qcodes), ("cand", cand), ("counts", counts), ("o", out),
               ("l", lse), ("ow", out), ("lw", lse)]
    local_allocs = "\n".join(f"  %{name} = memref.alloc() : {t}"
                             for name, t in locals_)
    # (Freed by the pipeline's buffer deallocation, which rejects explicit
    # memref.dealloc.)
    host_locals = [("cand", cand), ("counts", counts), ("o", out),
                   ("l", lse)]
    host_allocs = "\n".join(f"  %{name} = memref.alloc() : {t}"
                            for name, t in host_locals)
    count_back = f"memref.copy %counts, %counts_out : {counts} to {counts}"
    calls = {
        "exact": f"call @exact(%q, %k, %v, %final) : ({q}, {kv}, {kv}, {out}) -> ()",
        "step": f"call @step({step_values}) : ({step_types}) -> ()",
        "host": (f"call @host(%q, %k, %v, %qc, %off, %idx, %norms, %mean) : "
                 f"({q}, {kv}, {kv}, {qcodes}, {offsets}, {indices}, {norms}, "
                 f"{mean}) -> ()"),
        "device": f"call @device({step_values}) : ({step_types}) -> ()",
    }
    timed = ""
    for name in TIMED:
        timed += f"""
  {calls[name]}
  scf.for %r = %c0 to %repeats step %c1 {{
    %t0 = func.call @magicpigNanoTime() : () -> i64
    func.{calls[name]}
    %t1 = func.call @magicpigNanoTime() : () -> i64
    %dt = arith.subi %t1, %t0 : i64
    vector.print str "{name} "
    vector.print %dt : i64
  }}"""
    allocs = "\n".join(
        f"  %{name} = memref.alloc() : {t}" for name, t in [
            ("q", q), ("k", kv), ("v", kv), ("c", centered), ("mean", mean),
            ("norms", norms), ("p", proj), ("codes", kcodes), ("off", offsets),
            ("idx", indices), ("qc", qcodes), ("counts", counts), ("final", out),
            ("lf", lse)])
    return f"""
func.func private @magicpigNanoTime() -> i64
{fill_function("fill_q", q, 3, "f32")}
{fill_function("fill_kv", kv, 4, "bf16")}
{fill_function("fill_p", proj, 2, "f32")}
func.func @prefill(%k: {kv}, %c: {centered}, %mean: {mean}, %norms: {norms},
                   %p: {proj}, %codes: {kcodes}, %off: {offsets}, %idx: {indices}) {{
  magicpig.center_keys sink({SINK}) window({WINDOW}) ins(%k : {kv}) outs(%c, %mean : {centered}, {mean})
  magicpig.key_norms ins(%c : {centered}) outs(%norms : {norms})
  magicpig.simhash bits({K_BITS}) tables({L_TABLES}) ins(%c, %p : {centered}, {proj}) outs(%codes : {kcodes})
  magicpig.build_tables bits({K_BITS}) sink({SINK}) window({WINDOW}) ins(%codes : {kcodes}) outs(%off, %idx : {offsets}, {indices})
  return
}}
func.func @exact(%q: {q}, %k: {kv}, %v: {kv}, %o: {out}) {{
  magicpig.attention scale({scale}) ins(%q, %k, %v : {q}, {kv}, {kv}) outs(%o : {out})
  return
}}
func.func @step({step_args}) {{
{local_allocs}
  {qhash}
  {window}
  {retrieve}
  {estimate}
  {merge}
  {count_back}
  return
}}
func.func @hash_query(%q: {q}, %p: {proj}, %qc: {qcodes}) {{
  {qhash}
  return
}}
func.func @host(%q: {q}, %k: {kv}, %v: {kv}, %qc: {qcodes}, %off: {offsets},
                %idx: {indices}, %norms: {norms}, %mean: {mean}) {{
{host_allocs}
  {retrieve}
  {estimate}
  return
}}
func.func @device({step_args}) {{
{local_allocs}
  {qhash}
  {window}
  {merge}
  return
}}
func.func @main() {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %repeats = arith.constant {repeats} : index
{allocs}
  %s1 = arith.constant 1 : i32
  %s2 = arith.constant 2 : i32
  %s3 = arith.constant 3 : i32
  %s4 = arith.constant 4 : i32
  call @fill_q(%q, %s1) : ({q}, i32) -> ()
  call @fill_kv(%k, %s2) : ({kv}, i32) -> ()
  call @fill_kv(%v, %s3) : ({kv}, i32) -> ()
  call @fill_p(%p, %s4) : ({proj}, i32) -> ()
  %p0 = call @magicpigNanoTime() : () -> i64
  call @prefill(%k, %c, %mean, %norms, %p, %codes, %off, %idx) : ({kv}, {centered}, {mean}, {norms}, {proj}, {kcodes}, {offsets}, {indices}) -> ()
  %p1 = call @magicpigNanoTime() : () -> i64
  %pdt = arith.subi %p1, %p0 : i64
  vector.print str "prefill "
  vector.print %pdt : i64
  call @hash_query(%q, %p, %qc) : ({q}, {proj}, {qcodes}) -> ()
{timed}
  %zero = arith.constant 0 : i64
  %cb = arith.constant {b} : index
  %ch = arith.constant {HQ} : index
  %total = scf.for %i = %c0 to %cb step %c1 iter_args(%acc = %zero) -> (i64) {{
    %row = scf.for %h = %c0 to %ch step %c1 iter_args(%a = %acc) -> (i64) {{
      %x = memref.load %counts[%i, %h] : {counts}
      %x64 = arith.extui %x : i32 to i64
      %s = arith.addi %a, %x64 : i64
      scf.yield %s : i64
    }}
    scf.yield %row : i64
  }}
  vector.print str "retrieved "
  vector.print %total : i64
  return
}}
"""


def compile_module(n, b, repeats, chip, workdir):
    source = workdir / f"layer_n{n}_b{b}.mlir"
    compiled = workdir / f"layer_n{n}_b{b}.{chip}.mlir"
    source.write_text(module_text(n, b, repeats))
    start = time.perf_counter()
    result = subprocess.run(
        [str(OPT), str(source), f"--magicpig-cuda-pipeline=chip={chip}",
         "-o", str(compiled)], capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"compiling N={n} B={b} for {chip} failed:\n{result.stderr}")
    return compiled, time.perf_counter() - start


def run_compiled(compiled, timeout):
    result = subprocess.run(
        [str(RUN), "-e", "main", "-entry-point-result=void", "-O3",
         str(compiled)], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        fail(f"magicpig-run {compiled.name} failed:\n{result.stderr[-2000:]}")
    readings = {}
    for line in result.stdout.splitlines():
        name, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            readings.setdefault(name, []).append(int(value))
    return readings


def check_driver_on_cpu(n, b, repeats, workdir, timeout):
    """The same module through --magicpig-cpu-pipeline, run here: every
    timed function reports `repeats` readings and the retrieval count is
    plausible. Checks the driver only; the times are CPU times."""
    source = workdir / f"layer_n{n}_b{b}.mlir"
    compiled = workdir / f"layer_n{n}_b{b}.cpu.mlir"
    result = subprocess.run([str(OPT), str(source), "--magicpig-cpu-pipeline",
                             "-o", str(compiled)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        fail(f"CPU compile of N={n} B={b} failed:\n{result.stderr}")
    readings = run_compiled(compiled, timeout)
    for name in TIMED:
        if len(readings.get(name, [])) != repeats:
            fail(f"driver check: {name} has {len(readings.get(name, []))} "
                 f"readings, expected {repeats}")
    retrieved = readings["retrieved"][0] / (b * HQ * n)
    if not 0.0 < retrieved < 0.5:
        fail(f"driver check: implausible retrieved fraction {retrieved:.2%}")
    summary = ", ".join(f"{name} {statistics.median(readings[name]) / 1e6:.3f}"
                        for name in TIMED)
    print(f"  driver OK on the CPU (ms: {summary}; keys retrieved "
          f"{retrieved:.2%})")


# ----------------------------------------------------------------------------
# PyTorch SDPA on CUDA
# ----------------------------------------------------------------------------
def sdpa_times(torch, n, b, repeats):
    """Median seconds of SDPA with K/V resident on the device, and with K/V
    copied from (pageable) host memory first, as the project's exact op."""
    import torch.nn.functional as F
    device = torch.device("cuda")
    q = torch.randn(b, HQ, 1, D, device=device, dtype=torch.bfloat16)
    k_host = torch.randn(b, HKV, n, D, dtype=torch.bfloat16)
    v_host = torch.randn(b, HKV, n, D, dtype=torch.bfloat16)
    k, v = k_host.to(device), v_host.to(device)

    def attend(k, v):
        try:
            return F.scaled_dot_product_attention(q, k, v, scale=SCALE,
                                                  enable_gqa=True)
        except TypeError:  # torch < 2.5: no enable_gqa
            group = HQ // HKV
            return F.scaled_dot_product_attention(
                q, k.repeat_interleave(group, 1), v.repeat_interleave(group, 1),
                scale=SCALE)

    def median_time(body):
        body()
        torch.cuda.synchronize()
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            body()
            torch.cuda.synchronize()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    resident = median_time(lambda: attend(k, v))
    uploaded = median_time(lambda: attend(k_host.to(device), v_host.to(device)))
    del q, k, v, k_host, v_host
    torch.cuda.empty_cache()
    return resident, uploaded


# ----------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="16384,65536,131072")
    parser.add_argument("--batches", default="1,4,16")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--chip", default=None,
                        help="sm_XX (default: the GPU's, sm_90 with --compile-only)")
    parser.add_argument("--compile-only", action="store_true",
                        help="write and compile the modules, run nothing (no GPU needed)")
    parser.add_argument("--cpu-driver-check", action="store_true",
                        help="with --compile-only: also compile each module "
                        "with --magicpig-cpu-pipeline and run it here, to "
                        "check the timing driver (CPU times, not the benchmark)")
    parser.add_argument("--keep", metavar="DIR",
                        help="keep the modules in DIR")
    parser.add_argument("--timeout", type=int, default=1800,
                        help="seconds per magicpig-run")
    parser.add_argument("--output", help="also write the table here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    batches = [int(s) for s in args.batches.split(",")]
    for tool in (OPT, RUN):
        if not tool.exists():
            fail(f"{tool} not found (build first, or set MAGICPIG_BUILD_DIR)")

    torch = None
    chip = args.chip
    if not args.compile_only:
        count, why = cuda_device_count()
        if count <= 0:
            fail(f"no CUDA device ({why}); --compile-only checks the compile "
                 "stage without one")
        try:
            import torch
        except ImportError:
            fail("PyTorch is not installed (needed for the SDPA baseline)")
        if not torch.cuda.is_available():
            fail("PyTorch sees no CUDA device (a CPU-only build?)")
        if chip is None:
            major, minor = torch.cuda.get_device_capability()
            chip = f"sm_{major}{minor}"
    chip = chip or "sm_90"

    workdir_context = (tempfile.TemporaryDirectory(prefix="magicpig-gpu-bench-")
                       if not args.keep else None)
    workdir = pathlib.Path(args.keep or workdir_context.name)
    workdir.mkdir(parents=True, exist_ok=True)

    if args.compile_only:
        for n in sizes:
            for b in batches:
                compiled, seconds = compile_module(n, b, args.repeats, chip,
                                                   workdir)
                print(f"compiled N={n} B={b} for {chip} in {seconds:.1f} s "
                      f"({compiled.stat().st_size // 1024} KB)")
                if args.cpu_driver_check:
                    check_driver_on_cpu(n, b, args.repeats, workdir,
                                        args.timeout)
        print("compile stage OK (nothing run: --compile-only)")
        return

    device_name = torch.cuda.get_device_name(0)
    lines = [
        f"GPU decode layer, Llama-3.1-8B shapes (Hq={HQ}, Hkv={HKV}, d={D}, "
        f"bf16 K/V), K={K_BITS}, L={L_TABLES}, T={THRESHOLD}, sink={SINK}, "
        f"window={WINDOW}; {device_name} ({chip}); medians of {args.repeats} "
        "runs, ms.",
        "",
        "| N | B | exact (ours) | SDPA resident | SDPA + upload | sampled step "
        "| host part | device part | host hidden | step vs SDPA resident "
        "| keys retrieved | prefill s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        for b in batches:
            compiled, _ = compile_module(n, b, args.repeats, chip, workdir)
            readings = run_compiled(compiled, args.timeout)
            ms = {name: statistics.median(readings[name]) / 1e6
                  for name in TIMED}
            resident, uploaded = sdpa_times(torch, n, b, args.repeats)
            # Host time the overlap hid: host + device - step, as a share of
            # the shorter half (1 = fully hidden).
            hidden = (ms["host"] + ms["device"] - ms["step"]) / max(
                min(ms["host"], ms["device"]), 1e-9)
            retrieved = readings["retrieved"][0] / (b * HQ * n)
            lines.append(
                f"| {n} | {b} | {ms['exact']:.3f} | {resident * 1e3:.3f} | "
                f"{uploaded * 1e3:.3f} | {ms['step']:.3f} | {ms['host']:.3f} | "
                f"{ms['device']:.3f} | {hidden:.2f} | "
                f"{resident * 1e3 / ms['step']:.2f}x | {retrieved:.2%} | "
                f"{readings['prefill'][0] / 1e9:.1f} |")
            print(lines[-1], flush=True)
    table = "\n".join(lines)
    print("\n" + table)
    if args.output:
        pathlib.Path(args.output).write_text(table + "\n")


if __name__ == "__main__":
    main()
