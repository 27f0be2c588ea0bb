"""python3 -m magicpig.eval: MagicPIG vs TopK vs Quest vs exact on SmolLM2.

Phases (--phases, default all, in this order; each stores its results in
--work-dir, and `report` writes docs/accuracy.md and its plots from
whatever results are stored):

  layers    per layer/head relative L2 error at matched measured budgets,
            for every --configs (K, L), on caches captured from Debian
            license text at each --contexts length; picks the default (K, L)
  compiled  the compiled MagicPIG layer graph (magicpig-compile) on the
            same captured caches, against the numpy reference
  ppl       perplexity on held-out changelog text, dense / MagicPIG /
            TopK / Quest
  needle    passkey retrieval, dense / MagicPIG / TopK / Quest
  kl        passkey retrieval by MagicPIG at each --kl-configs (K, L) and
            by dense, on the same cases
  report    docs/accuracy.md + docs/accuracy/*.png

Progress goes to stderr.
"""

import argparse
import json
import os
import shlex
import sys
import time

from magicpig.cache_io import atomic_file, cache_writes, reason
from magicpig.cli import progress, run_main
from magicpig.errors import MagicPigError
from magicpig.options import MagicPigOptions

PHASES = ("layers", "compiled", "ppl", "needle", "kl", "report")
DEFAULT_CONFIGS = "8x40,9x75,10x100,10x150,11x200,11x300,12x450"


def _ints(text):
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'")


def _floats(text):
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got '{text}'")


def _configs(text):
    try:
        out = []
        for item in text.split(","):
            k, l = item.lower().split("x")
            out.append((int(k), int(l)))
        return out
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected KxL items like 10x150, got '{text}'")


def _layers(text):
    return None if text == "all" else _ints(text)


def _phases(text):
    phases = [p for p in text.split(",") if p]
    for p in phases:
        if p not in PHASES:
            raise argparse.ArgumentTypeError(f"unknown phase '{p}' (have {', '.join(PHASES)})")
    return phases


def build_parser():
    d = MagicPigOptions()
    p = argparse.ArgumentParser(prog="python3 -m magicpig.eval",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--phases", type=_phases, default=list(PHASES),
                   help=f"comma-separated subset of {','.join(PHASES)} (default all)")
    p.add_argument("--contexts", type=_ints, default=[2048, 4096, 8192],
                   help="context lengths in tokens (default 2048,4096,8192)")
    p.add_argument("--gguf", metavar="FILE", help="default: SmolLM2-135M-Instruct")
    p.add_argument("--work-dir", default=None,
                   help="results and compiled graphs (default ~/.cache/magicpig/eval)")
    p.add_argument("--out", default="docs/accuracy.md", help="the report (markdown)")
    p.add_argument("--plots", default="docs/accuracy", help="folder of the PNG plots")
    p.add_argument("--threads", type=int, default=1,
                   help="torch / BLAS threads (default 1: on a shared machine more "
                        "threads spin and run several times slower)")
    g = p.add_argument_group("per layer error (layers phase)")
    g.add_argument("--layers", type=_layers, default=None,
                   help="comma-separated layers, or 'all' (default)")
    g.add_argument("--queries", type=int, default=8,
                   help="decode queries per context (the last positions of the text)")
    g.add_argument("--configs", type=_configs, default=_configs(DEFAULT_CONFIGS),
                   help=f"MagicPIG (K, L) to evaluate (default {DEFAULT_CONFIGS})")
    g.add_argument("--fractions", type=_floats, default=[0.01, 0.02, 0.03, 0.05, 0.1, 0.2],
                   help="budget grid of the baseline curves")
    g.add_argument("--target-budget", type=_floats, default=[0.03, 0.05],
                   help="LOW,HIGH: the budget range the default (K, L) must meet")
    g.add_argument("--default", type=_configs, default=None, metavar="KxL",
                   help="MagicPIG (K, L) of the end-to-end phases (default: the "
                        "one the layers phase chose)")
    g = p.add_argument_group("compiled check")
    g.add_argument("--compiler", default="build/bin/magicpig-compile",
                   help="the magicpig-compile binary")
    g.add_argument("--compiled-layers", type=_ints, default=[1, 8, 22, 29],
                   help="captured layers fed to the compiled layer graph")
    g.add_argument("--compiled-contexts", type=_ints, default=None,
                   help="contexts of the compiled check (default: --contexts)")
    g = p.add_argument_group("end to end")
    g.add_argument("--ppl-texts", type=int, default=4, help="held-out texts per context")
    g.add_argument("--ppl-tokens", type=int, default=64,
                   help="tokens per text scored through decode steps")
    g.add_argument("--cases", type=int, default=50, help="needle cases per context")
    g.add_argument("--needles", type=int, default=5,
                   help="needles per haystack (cases / needles haystacks)")
    g.add_argument("--kl-configs", type=_configs, default=_configs("11x200,12x450"),
                   help="MagicPIG (K, L) of the kl phase (default 11x200,12x450)")
    g.add_argument("--methods", default="dense,magicpig,topk,quest",
                   help="end-to-end methods, a subset of dense,magicpig,topk,quest")
    g = p.add_argument_group("MagicPIG (as --magicpig-sparsify)")
    g.add_argument("--min-collisions", type=int, default=d.min_collisions)
    g.add_argument("--sink-tokens", type=int, default=d.sink_tokens)
    g.add_argument("--window-tokens", type=int, default=d.window_tokens)
    g.add_argument("--seed", type=int, default=d.seed)
    return p


class Results:
    """results.json in the work dir: one entry per phase (+ its command)."""

    def __init__(self, work_dir):
        self.path = os.path.join(work_dir, "results.json")
        self.data = self._read()

    def _read(self):
        """What results.json holds; a damaged one is moved aside to
        results.json.damaged (after a note) and the results start over."""
        if not os.path.isfile(self.path):
            return {}
        try:
            with open(self.path) as f:
                data = json.load(f)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return data
        except (OSError, ValueError) as e:
            progress(f"{self.path} is unusable ({reason(e)}); moved to "
                     f"{self.path}.damaged, starting over")
            os.replace(self.path, self.path + ".damaged")
            return {}

    def save(self, keys=None):
        """Writes `keys` (default all) over what is on disk now, so that
        runs of different phases or contexts in parallel keep each other's
        results."""
        disk = self._read()
        for key in (self.data if keys is None else keys):
            if key == "timings":
                disk.setdefault("timings", {}).update(self.data.get("timings", {}))
            elif key in self.data:
                disk[key] = self.data[key]
        with cache_writes(self.path), atomic_file(self.path) as f:
            json.dump(disk, f, indent=1)
        self.data = dict(disk, **{k: self.data[k] for k in self.data if k not in disk})


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.threads < 1:
        raise MagicPigError("--threads must be >= 1")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before numpy / torch load BLAS
    import torch

    torch.set_num_threads(args.threads)
    base = MagicPigOptions(min_collisions=args.min_collisions, sink_tokens=args.sink_tokens,
                           window_tokens=args.window_tokens, seed=args.seed).validate()
    for k, l in args.configs + (args.default or []) + args.kl_configs:
        MagicPigOptions(k, l, args.min_collisions).validate()
    if args.cases < 1 or args.needles < 1 or args.needles > 10:
        raise MagicPigError("--cases must be >= 1 and --needles in 1..10")
    if args.queries < 1:
        raise MagicPigError("--queries must be >= 1")
    for n in args.contexts:
        if n < base.sink_tokens + base.window_tokens + args.queries + 16:
            raise MagicPigError(f"context {n} is too short for sink + window + queries")
    methods = [m for m in args.methods.split(",") if m]
    for m in methods:
        if m not in ("dense", "magicpig", "topk", "quest"):
            raise MagicPigError(f"--methods: unknown method '{m}'")
    if len(args.target_budget) != 2 or not 0 <= args.target_budget[0] <= \
            args.target_budget[1] <= 1:
        raise MagicPigError("--target-budget must be LOW,HIGH with 0 <= LOW <= HIGH <= 1")
    from magicpig.model_store import cache_dir

    work = args.work_dir or os.path.join(cache_dir(), "eval")
    os.makedirs(work, exist_ok=True)
    results = Results(work)
    command = "python3 -m magicpig.eval " + " ".join(shlex.quote(a) for a in argv)
    from magicpig.eval import phases

    needs_model = set(args.phases) - {"report"}
    ctx = phases.Context(args, base, work, results, command, methods) if needs_model \
        else phases.Context(args, base, work, results, command, methods, load=False)
    for phase in args.phases:
        start = time.perf_counter()
        progress(f"phase {phase}")
        getattr(phases, f"run_{phase}")(ctx)
        key = phase if phase not in ("needle", "ppl", "kl") else \
            f"{phase}@{','.join(map(str, args.contexts))}"
        results.data.setdefault("timings", {})[key] = time.perf_counter() - start
        results.save(["timings"])
        progress(f"phase {phase} done in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
