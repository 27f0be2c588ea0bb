"""Time of one compiled decode step of SmolLM2 at a long context.

Prefills a prompt (the GPL-2 and GPL-3 texts with the chat template, cut
to --tokens),
then times --steps decode calls of the compiled graph, reporting the graph
call and the Python-side append of the returned K/V rows to the cache
(as magicpig.backends.CompiledBackend does them) separately; before them
the prefill's time, page faults and the process's peak memory. With
--compare, a second graph runs the same prefill and 3 decode steps and the
largest logit difference between the two is printed (e.g. the same graph
compiled with -j2 and -j1).

    ~/.cache/magicpig/venv/bin/python bench/decode_step.py --attention magicpig
    ~/.cache/magicpig/venv/bin/python bench/decode_step.py --library A.so --compare B.so

Without --library the graph comes from magicpig.graph_cache (compiled on
first use with the model's default options). OMP_NUM_THREADS sets the
threads of the graph's OpenMP loops.
"""

import argparse
import os
import pathlib
import resource
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "python"))

# Debian base-files; GPL-2 first, so the first 4.1K tokens stay the same
# prompt whatever --tokens is.
PROMPTS = ["/usr/share/common-licenses/GPL-2", "/usr/share/common-licenses/GPL-3"]


def load(model, library, capacity):
    from magicpig.backends import CompiledBackend

    return CompiledBackend(model, library, capacity=capacity)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--attention", choices=["dense", "magicpig"], default="magicpig")
    p.add_argument("--weight-type", choices=["f32", "bf16"], default="f32",
                   help="element type of the weight matrices (without --library)")
    p.add_argument("--library", help="a graph from magicpig-compile")
    p.add_argument("--compare", metavar="SO", help="a second graph to compare logits with")
    p.add_argument("--tokens", type=int, default=4096)
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()

    from magicpig.gguf_model import load_llama
    from magicpig.model_store import fetch_model
    from magicpig.options import MagicPigOptions
    from magicpig.tokenizer import Tokenizer

    path = fetch_model()
    model = load_llama(path)
    text = "\n\n".join(open(f).read() for f in PROMPTS)
    ids = Tokenizer.from_gguf(path).chat_prompt(text)[:args.tokens]
    if len(ids) + args.steps > model.config.context_length:
        p.error(f"--tokens + --steps must fit the model's context of "
                f"{model.config.context_length} tokens")
    library = args.library
    if library is None:
        from magicpig.graph_cache import compiled_graph, file_key

        library = compiled_graph(model, file_key(path), args.attention,
                                 MagicPigOptions.for_model(model.config.head_dim),
                                 weight_type=args.weight_type)

    backend = load(model, library, len(ids) + args.steps)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    first = [backend.prefill(ids).numpy()]
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    # Minor faults: fresh pages the prefill touched; ru_maxrss is in KiB.
    print(f"prefill of {len(ids)} tokens: {seconds:.2f} s, "
          f"{after.ru_minflt - before.ru_minflt} page faults, process peak RSS "
          f"{after.ru_maxrss / 2**20:.2f} GiB")
    graph_ms, append_ms = [], []
    for step in range(args.steps):
        cache = backend.cache
        t0 = time.perf_counter()
        logits, k_new, v_new, _ = backend.compiled.decode(
            [[7 + step]], cache.length, cache.keys().numpy(), cache.values().numpy(),
            backend.index)
        t1 = time.perf_counter()
        cache.append(torch.from_numpy(k_new), torch.from_numpy(v_new))
        t2 = time.perf_counter()
        graph_ms.append(1e3 * (t1 - t0))
        append_ms.append(1e3 * (t2 - t1))
        if step < 3:
            first.append(logits[0])
    print(f"threads {os.environ.get('OMP_NUM_THREADS', 'all cores')}; decode call "
          f"median {statistics.median(graph_ms):.1f} ms (min {min(graph_ms):.1f}, "
          f"max {max(graph_ms):.1f}); cache append median "
          f"{statistics.median(append_ms):.1f} ms; {args.steps} steps from "
          f"{len(ids)} tokens")

    if args.compare:
        other = load(model, args.compare, len(ids) + args.steps)
        second = [other.prefill(ids).numpy()]
        for step in range(min(3, args.steps)):
            second.append(other.decode(7 + step).numpy())
        a, b = np.stack(first[:len(second)]), np.stack(second)
        print(f"max |logit difference| vs {args.compare}: {np.abs(a - b).max():.3g} "
              f"(logits up to {np.abs(a).max():.1f})")


if __name__ == "__main__":
    main()
