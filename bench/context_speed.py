"""Prefill and decode speed of a `--model` at long contexts, dense vs
MagicPIG, from the compiled graphs (magicpig.compile_model).

    ~/.cache/magicpig/venv/bin/python bench/context_speed.py \\
        --model gemma3-270m --lengths 8192,16384,32768 --decode-tokens 16

For each context length the prompt is real text (Debian's GPL-2, repeated)
cut to that many tokens; each attention runs a prefill of the whole prompt
and --decode-tokens greedy decode steps, the attentions interleaved (dense,
magicpig, then in the other order on the next repeat) so that a change in
the machine's load hits both. A row is printed as soon as it is measured
(with the 1-minute load average before and after it: os.getloadavg), so a
length the machine cannot hold still leaves the shorter ones. The greedy
tokens of the two attentions are compared (how many leading tokens agree).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

TEXT = "/usr/share/common-licenses/GPL-2"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="gemma3-270m",
                   help="as generate --model: a checkpoint directory, a .gguf or a "
                        "named model (default gemma3-270m)")
    p.add_argument("--lengths", default="8192,16384,32768",
                   help="comma-separated prompt lengths in tokens (one at the "
                        "model's context is shortened by --decode-tokens)")
    p.add_argument("--attention", default="dense,magicpig",
                   help="comma-separated: dense, magicpig")
    p.add_argument("--decode-tokens", type=int, default=16)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--weight-type", choices=["f32", "bf16"], default="f32")
    p.add_argument("--kv-type", choices=["f32", "bf16", "f16"], default="f32",
                   help="element type of the KV cache (magicpig-compile --kv-type)")
    p.add_argument("--text", default=TEXT, help="the prompt's text (repeated)")
    return p.parse_args(argv)


def prompt_of(tokenizer, text, length):
    """`length` token ids: the tokenizer's BOS (if it adds one) and the
    text's tokens, the text repeated as often as needed."""
    ids = list(tokenizer(text)["input_ids"])
    body = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    head = ids[:len(ids) - len(body)]  # the special tokens put in front
    out = list(head)
    while len(out) < length:
        out += body
    return out[:length]


def load_avg():
    return os.getloadavg()[0]


def main(argv=None):
    import torch

    from magicpig.cli import progress, run_main
    from magicpig.errors import MagicPigError
    from magicpig.generate import generate_tokens
    from magicpig.hf_compile import compile_model
    from magicpig.hf_export import ModelShape
    from magicpig.hf_load import load

    args = parse_args(argv)

    def run(_):
        lengths = [int(x) for x in args.lengths.split(",") if x.strip()]
        attentions = [a.strip() for a in args.attention.split(",") if a.strip()]
        if not lengths or not attentions or any(a not in ("dense", "magicpig")
                                                for a in attentions):
            raise MagicPigError("--lengths needs numbers, --attention dense and/or "
                                "magicpig")
        loaded = load(args.model)
        progress(f"loaded {loaded.describe()}")
        context = ModelShape(loaded.model.config).context_length
        if args.decode_tokens < 1 or args.decode_tokens >= context:
            raise MagicPigError(f"--decode-tokens must be in 1..{context - 1}")
        # A length at the context (32768) leaves room for the decoded tokens.
        lengths = [min(n, context - args.decode_tokens) for n in lengths]
        if min(lengths) < 2:
            raise MagicPigError("--lengths must be >= 2")
        with open(args.text, encoding="utf-8") as f:
            text = f.read()
        graphs = {a: compile_model(loaded.model, attention=a, weight_type=args.weight_type,
                                   kv_type=args.kv_type)
                  for a in attentions}
        print(f"# {loaded.describe()}; {os.cpu_count()} CPUs; weights {args.weight_type}; "
              f"KV cache {args.kv_type}; "
              f"torch threads {torch.get_num_threads()}", flush=True)
        for a, g in graphs.items():
            print(f"# {a}: {g.library} ({g.sparse_layers} of {g.shape.num_layers} layers "
                  f"sampled{'; MagicPIG ' + g.options.describe() if a == 'magicpig' else ''})",
                  flush=True)
        header = (f"{'tokens':>7} {'attention':>9} {'prefill s':>10} {'prefill tok/s':>14} "
                  f"{'decode tok/s':>13} {'keys touched':>13} {'KV MiB':>7} {'load before/after':>18}")
        print(header, flush=True)
        for n in lengths:
            ids = prompt_of(loaded.tokenizer, text, n)
            tokens = {}
            for rep in range(args.repeats):
                order = attentions if rep % 2 == 0 else attentions[::-1]
                for a in order:
                    g = graphs[a]
                    g.backend.capacity = n + args.decode_tokens
                    before = load_avg()
                    out, prefill_s, decode_s, steps = generate_tokens(
                        g.backend, ids, args.decode_tokens, -1)
                    after = load_avg()
                    tokens.setdefault(a, out)
                    stats = g.keys_touched
                    touched = (f"{100 * stats.fraction():.1f}%"
                               if stats is not None and stats.available else "n/a")
                    rate = f"{steps / decode_s:.2f}" if steps and decode_s > 0 else "n/a"
                    kv_mib = g.backend.cache.filled_bytes() / (1 << 20)
                    print(f"{n:>7} {a:>9} {prefill_s:>10.2f} {n / prefill_s:>14.1f} "
                          f"{rate:>13} {touched:>13} {kv_mib:>7.1f} "
                          f"{before:>8.2f}/{after:<8.2f}",
                          flush=True)
                    g.backend.cache = None  # the next run's cache is its own
                    g.backend.index = []
            if len(tokens) == 2:
                d, m = tokens["dense"], tokens["magicpig"]
                same = next((i for i, (x, y) in enumerate(zip(d, m)) if x != y), len(d))
                print(f"# {n} tokens: the first {same} of {len(d)} greedy tokens of "
                      f"magicpig equal dense", flush=True)
        return 0

    return run_main(run)


if __name__ == "__main__":
    sys.exit(main())
