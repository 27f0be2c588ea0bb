#!/usr/bin/env python3
"""A bounded, seeded mutation fuzzer of magicpig-opt over the lit inputs.

Takes the .mlir inputs of test/ that hold magicpig ops or feed the project's
passes, splits them at `// -----`, mutates the pieces (boundary numbers and
dims, element types, magicpig op attributes, deleted / swapped / duplicated
tokens and lines, spliced lines) and runs each mutant through magicpig-opt
with one of the project's passes or pipelines: the ones the input's own RUN
lines use, or any project pass listed by `magicpig-opt --help`, sometimes
with a numeric pass option set to a boundary value. Mutants of one pipeline
run in one process (-split-input-file); a batch that crashes or times out is
bisected down to the mutants that do.

A run is fine when it exits 0 or fails with a diagnostic. A crash is a
signal, an abort, "LLVM ERROR", an assertion, a sanitizer report, or a
timeout that a rerun with a longer limit repeats. Each crash but a timeout
is reduced (line deletion), and every one is attributed: upstream when it matches
known-upstream-crashes.txt or when upstream mlir-opt crashes on the reduced
mutant too (parse only, or the crashing upstream pass through a local crash
reproducer); a project crash otherwise. Project crashes are printed with
their command and saved under --out-dir, and make the exit status 1.

Deterministic for a given --seed: batch i is built from random.Random of
(seed, i), and --time-budget only cuts the run short after a prefix of the
batches. Standard library only (lit runs under /usr/bin/python3).

    python3 test/fuzz/mutate.py --opt build/bin/magicpig-opt \\
        --upstream-opt /usr/lib/llvm-22/bin/mlir-opt --corpus test \\
        --mutants 100000 --seed 2 --time-budget 1800 --out-dir /tmp/magicpig-fuzz
"""

import argparse
import concurrent.futures
import itertools
import mmap
import os
import random
import re
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import time

SPLIT = "// -----"
HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------
# Mutations
# --------------------------------------------------------------------------

INTS = ["0", "1", "-1", "2", "3", "7", "16", "17", "1024", "65536",
        "2147483647", "2147483648", "-2147483648", "4294967296",
        "9223372036854775807", "-9223372036854775808", "18446744073709551616"]
DIMS = ["0", "1", "2", "3", "?", "17", "65537"]
HUGE_DIMS = ["2147483647", "2147483648", "4294967296", "9223372036854775807"]

FLOATS = ["0.0", "-0.0", "1.0e+308", "-1.0e+308", "1.0e-45", "0x7FC00000",
          "0x7F800000", "0xFF800000"]
TYPES = ["f16", "bf16", "f32", "f64", "i1", "i8", "i32", "i64", "index"]

INT_RE = re.compile(r"(?<![\w.%#@^$-])-?\d+(?![\w.])")
DIM_RE = re.compile(r"(?<=[<x])(?:\d+|\?)(?=x)")
FLOAT_RE = re.compile(r"(?<![\w.])-?\d+\.\d+(?:e[+-]?\d+)?")
TYPE_RE = re.compile(r"\b(?:f16|bf16|f32|f64|i1|i8|i32|i64|index)\b")
TOKEN_RE = re.compile(r"[%@#^]?[\w.$-]+|\S")
DEFS_RE = re.compile(r"^(\s*)((?:%[\w.$-]+(?::\d+)?\s*,\s*)*%[\w.$-]+(?::\d+)?)(\s*=)")


def _replace_match(text, regex, rng, choices, within=None):
    matches = [m for m in regex.finditer(text)
               if within is None or within(text, m.start())]
    if not matches:
        return None
    m = rng.choice(matches)
    return text[:m.start()] + rng.choice(choices) + text[m.end():]


def _on_magicpig_line(text, pos):
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return "magicpig." in text[start:end if end >= 0 else len(text)]


def mutate_int(text, rng, ctx):
    return _replace_match(text, INT_RE, rng, INTS)


def mutate_magicpig_attr(text, rng, ctx):
    return _replace_match(text, INT_RE, rng, INTS, within=_on_magicpig_line)


def mutate_dim(text, rng, ctx):
    return _replace_match(text, DIM_RE, rng, ctx.dims)


def mutate_float(text, rng, ctx):
    return _replace_match(text, FLOAT_RE, rng, FLOATS)


def mutate_type(text, rng, ctx):
    return _replace_match(text, TYPE_RE, rng, TYPES)


def mutate_dim_everywhere(text, rng, ctx):
    """Changes one static size in every shape, so that the types still agree."""
    sizes = sorted(set(m.group() for m in DIM_RE.finditer(text)) - {"?"})
    if not sizes:
        return None
    size, new = rng.choice(sizes), rng.choice(ctx.dims)
    return re.sub(r"(?<=[<x])%s(?=x)" % size, new, text)


def mutate_type_everywhere(text, rng, ctx):
    types = sorted(set(TYPE_RE.findall(text)))
    if not types:
        return None
    return re.sub(r"\b%s\b" % rng.choice(types), rng.choice(TYPES), text)


def _tokens(text):
    return list(TOKEN_RE.finditer(text))


def delete_token(text, rng, ctx):
    tokens = _tokens(text)
    if not tokens:
        return None
    m = rng.choice(tokens)
    return text[:m.start()] + text[m.end():]


def swap_tokens(text, rng, ctx):
    tokens = _tokens(text)
    if len(tokens) < 2:
        return None
    i = rng.randrange(len(tokens) - 1)
    a, b = tokens[i], tokens[i + 1]
    return (text[:a.start()] + b.group() + text[a.end():b.start()] + a.group()
            + text[b.end():])


def delete_line(text, rng, ctx):
    lines = text.split("\n")
    if len(lines) < 2:
        return None
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def swap_lines(text, rng, ctx):
    lines = text.split("\n")
    if len(lines) < 2:
        return None
    i = rng.randrange(len(lines) - 1)
    j = min(len(lines) - 1, i + 1 + rng.randrange(3))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def duplicate_op(text, rng, ctx):
    """Repeats an op line, its results renamed so that the copy still parses."""
    lines = text.split("\n")
    ops = [i for i, line in enumerate(lines) if DEFS_RE.match(line)]
    if not ops:
        return None
    i = rng.choice(ops)
    copy = DEFS_RE.sub(
        lambda m: m.group(1) + re.sub(r"%([\w.$-]+)", r"%\1_fz", m.group(2))
        + m.group(3), lines[i], count=1)
    lines.insert(i + 1, copy)
    return "\n".join(lines)


def splice_line(text, rng, ctx):
    """Inserts a line of another corpus piece."""
    lines = text.split("\n")
    lines.insert(rng.randrange(len(lines) + 1), rng.choice(ctx.pool))
    return "\n".join(lines)


MUTATORS = [  # (weight, mutator)
    (5, mutate_int), (4, mutate_magicpig_attr), (3, mutate_dim),
    (4, mutate_dim_everywhere), (1, mutate_float), (2, mutate_type),
    (3, mutate_type_everywhere), (2, delete_token), (2, swap_tokens),
    (2, delete_line), (1, swap_lines), (2, duplicate_op), (1, splice_line)]


def mutate(text, rng, ctx):
    weights = [w for w, _ in MUTATORS]
    for _ in range(rng.choices([1, 2, 3], [6, 3, 1])[0]):
        for _attempt in range(4):
            _, mutator = rng.choices(MUTATORS, weights)[0]
            result = mutator(text, rng, ctx)
            if result is not None and result != text:
                text = result
                break
    return text.replace(SPLIT, "//")


# --------------------------------------------------------------------------
# Corpus and pipelines
# --------------------------------------------------------------------------

IGNORED_ARGS = ("-split-input-file", "--split-input-file", "-verify-diagnostics",
                "--verify-diagnostics", "-o", "-mlir-print-op-on-diagnostic=false")


def run_lines(text):
    """The RUN commands of a lit test, continuation lines joined."""
    commands, current = [], ""
    for m in re.finditer(r"^\s*//\s*RUN:(.*)$", text, re.M):
        current += m.group(1).strip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        commands.append(current)
        current = ""
    return commands


def natural_pipelines(path, text, corpus_dir):
    """{input path: [pipeline argv]} of the magicpig-opt commands of a test."""
    found = {}
    for command in run_lines(text):
        for stage in command.split("|"):
            try:
                argv = shlex.split(stage)
            except ValueError:
                continue
            if not argv or argv[0] != "magicpig-opt":
                continue
            inputs = [a for a in argv[1:] if not a.startswith("-")]
            passes = [a for a in argv[1:] if a.startswith("-")
                      and a not in IGNORED_ARGS and "transform" not in a]
            if not passes or not inputs:
                continue
            target = inputs[0].replace("%s", path).replace(
                "%S", os.path.dirname(path))
            if os.path.exists(target):
                found.setdefault(os.path.realpath(target), []).append(passes)
    return found


def load_corpus(corpus_dir, max_piece):
    """Pieces of the inputs that hold magicpig ops or feed project passes."""
    files, pipelines = {}, {}
    for root, dirs, names in os.walk(corpus_dir):
        dirs[:] = sorted(d for d in dirs if d != "fuzz")
        for name in sorted(names):
            if name.endswith(".mlir"):
                path = os.path.realpath(os.path.join(root, name))
                with open(path, encoding="utf-8", errors="replace") as f:
                    files[path] = f.read()
    for path, text in files.items():
        for target, passes in natural_pipelines(path, text, corpus_dir).items():
            pipelines.setdefault(target, []).extend(passes)
    corpus = []
    for path, text in files.items():
        own = [p for p in pipelines.get(path, []) if any("magicpig" in a for a in p)]
        if "magicpig." not in text and not own:
            continue
        body = "\n".join(line for line in text.split("\n")
                         if not line.lstrip().startswith("//") or line.startswith(SPLIT))
        pieces = [p.strip("\n") for p in body.split(SPLIT)]
        pieces = [p for p in pieces if p.strip() and len(p) <= max_piece]
        if pieces:
            corpus.append((os.path.relpath(path, corpus_dir), pieces, own))
    return corpus


def project_passes(opt):
    """{pass flag: {option: type}} of the project, read from --help."""
    out = subprocess.run(opt + ["--help"], capture_output=True, text=True,
                         timeout=120).stdout
    passes, current = {}, None
    for line in out.split("\n"):
        m = re.match(r"^ {6}--([\w-]+)\s", line)
        if m:
            name = m.group(1)
            current = name if "magicpig" in name else None
            if current:
                passes.setdefault(current, {})
            continue
        m = re.match(r"^ {8}--([\w-]+)(?:=<(\w+)>)?\s", line)
        if m and current:
            passes[current][m.group(1)] = m.group(2) or "bool"
    return passes


CUDA = "--magicpig-cuda-pipeline"
# Strings are not fuzzed: chip, features, toolkit (format is fixed to isa so
# that no CUDA tool runs).
NUMERIC = {"long": INTS, "int": INTS, "uint": INTS[:12], "ulong": INTS[:12],
           "bool": ["true", "false"]}
COMPOSITES = [
    ["--magicpig-raise-attention", "--magicpig-sparsify", "--magicpig-cpu-pipeline"],
    ["--magicpig-sparsify", "--magicpig-cpu-pipeline"],
    ["--magicpig-sparsify", CUDA],
    ["--magicpig-raise-attention", "--magicpig-sparsify=dense-layers=-1", CUDA],
    [],  # parse, verify, print
]


def split_flag(arg):
    name, _, value = arg.lstrip("-").partition("=")
    options = dict(kv.partition("=")[::2] for kv in value.strip("\"'{}").split())
    return name, options


def join_flag(name, options):
    if not options:
        return "--" + name
    return "--%s=%s" % (name, " ".join(
        k if v == "" else "%s=%s" % (k, v) for k, v in options.items()))


def choose_pipeline(rng, own, passes):
    if own and rng.random() < 0.5:
        pipeline = list(rng.choice(own))
    elif rng.random() < 0.4:
        pipeline = list(rng.choice(COMPOSITES))
    else:
        pipeline = ["--" + rng.choice(sorted(passes))]
    result = []
    fuzz_at = rng.randrange(len(pipeline)) if pipeline and rng.random() < 0.25 else -1
    for i, arg in enumerate(pipeline):
        name, options = split_flag(arg)
        if i == fuzz_at:
            numeric = sorted(k for k, t in passes.get(name, {}).items() if t in NUMERIC)
            if numeric:
                key = rng.choice(numeric)
                options[key] = rng.choice(NUMERIC[passes[name][key]])
        if "--" + name == CUDA:
            options.setdefault("chip", "sm_90")
            options["format"] = "isa"
        result.append(join_flag(name, options))
    return result


# --------------------------------------------------------------------------
# Running and classifying
# --------------------------------------------------------------------------

CRASH_MARKERS = ["PLEASE submit a bug report", "Stack dump:", "LLVM ERROR",
                 "Assertion `", "ERROR: AddressSanitizer", "runtime error:",
                 "ERROR: LeakSanitizer", "UndefinedBehaviorSanitizer"]


class Result:
    def __init__(self, rc, out, err, timed_out):
        self.rc, self.out, self.err, self.timed_out = rc, out, err, timed_out

    @property
    def crashed(self):
        return (self.timed_out or self.rc < 0 or self.rc >= 128
                or any(m in self.err for m in CRASH_MARKERS))


def is_instrumented(tool):
    """True for an ASan build (whose shadow memory needs an unlimited address space)."""
    try:
        with open(tool, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return m.find(b"__asan_init") >= 0
    except (OSError, ValueError):
        return False


class Runner:
    def __init__(self, opt, upstream, timeout, memory_mb, workdir):
        self.opt, self.upstream = opt, upstream
        self.timeout, self.workdir = timeout, workdir
        # The limits are set on this process and inherited by the tools (a
        # preexec_fn is not safe with threads): no core files, and a 4 GB
        # address space, or for an ASan build (whose shadow memory needs an
        # unlimited one) ASan's own RSS limit.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        self.env = dict(os.environ)
        if any(is_instrumented(a) for a in opt if os.path.isfile(a)):
            self.env["ASAN_OPTIONS"] = ":".join(filter(None, [
                self.env.get("ASAN_OPTIONS"), "hard_rss_limit_mb=%d" % memory_mb]))
        else:
            limit = memory_mb << 20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        self.counter = itertools.count()

    def write(self, text, suffix=".mlir"):
        path = os.path.join(self.workdir, "m%d%s" % (next(self.counter), suffix))
        with open(path, "w") as f:
            f.write(text)
        return path

    def run(self, argv, timeout=None, dump_stack_on_timeout=False):
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=self.env,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout or self.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            if dump_stack_on_timeout:  # LLVM's handler prints the stack on SIGABRT
                os.killpg(proc.pid, signal.SIGABRT)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = proc.communicate()
        return Result(proc.returncode, out.decode(errors="replace"),
                      err.decode(errors="replace"), timed_out)

    def opt_command(self, pipeline, path, split=False):
        return (self.opt + (["-split-input-file"] if split else [])
                + ["--mlir-disable-threading"] + pipeline + [path, "-o", "-"])

    def run_one(self, pipeline, text, timeout=None, dump=False):
        path = self.write(text)
        try:
            return self.run(self.opt_command(pipeline, path), timeout, dump)
        finally:
            os.unlink(path)

    def confirm(self, pipeline, text):
        """Result of one mutant when it crashes; a timeout must repeat with 3x the time."""
        result = self.run_one(pipeline, text)
        if result.timed_out:
            result = self.run_one(pipeline, text, 3 * self.timeout, dump=True)
        return result if result.crashed else None

    def run_batch(self, pipeline, mutants):
        """([(mutant, Result)] of the crashing mutants, how many passed the
        pipeline), bisecting a crashed batch."""
        if not mutants:
            return [], 0
        if len(mutants) == 1:
            result = self.confirm(pipeline, mutants[0])
            return ([(mutants[0], result)], 0) if result else ([], 0)
        path = self.write(("\n%s\n" % SPLIT).join(mutants))
        try:
            result = self.run(self.opt_command(pipeline, path, split=True),
                              self.timeout * 2)
        finally:
            os.unlink(path)
        if not result.crashed:  # mlir-opt prints nothing for a failed piece
            return [], sum(1 for p in result.out.split(SPLIT) if p.strip())
        half = len(mutants) // 2
        return (self.run_batch(pipeline, mutants[:half])[0]
                + self.run_batch(pipeline, mutants[half:])[0], 0)


# --------------------------------------------------------------------------
# Signatures and attribution
# --------------------------------------------------------------------------

HANDLER_FRAMES = re.compile(
    r"llvm::sys::|SignalHandler|libc\.so|__restore_rt|raise\b|abort\b|__assert|"
    r"report_fatal_error|__sanitizer|__asan|__ubsan|gsignal|pthread_kill|"
    r"llvm::llvm_unreachable_internal|reportFatal|CrashRecoveryContext|"
    r"interceptor|^operator new|^malloc|^calloc")


def frames(err):
    """Function names of the symbolized stack frames, innermost first."""
    names = []
    for m in re.finditer(r"^\s*#\d+ 0x[0-9a-f]+ (?:in )?(.*)$", err, re.M):
        name = re.sub(r" \(/.*\)$| [\w./-]+:\d+(:\d+)?$", "", m.group(1)).strip()
        name = name.replace("(anonymous namespace)", "anon")
        if name and not name.startswith("(") and not HANDLER_FRAMES.search(name):
            names.append(name.split("(")[0])
    return names


def context(err):
    """The innermost pretty-stack entry: the running pass or the op parser."""
    entries = re.findall(r"^\d+\.\t(.*)$", err, re.M)
    entries = [e for e in entries if not e.startswith("Program arguments")]
    if not entries:
        return ""
    return re.sub(r" on operation.*| at .*", "", entries[-1]).strip()


def signature(result):
    err = result.err
    if result.timed_out:
        kind = "timeout"
    elif "AddressSanitizer" in err:
        kind = "asan " + (re.findall(r"AddressSanitizer: ([\w-]+)", err) or [""])[0]
    elif "runtime error:" in err:
        kind = "ubsan " + re.findall(r"runtime error: ([^\n]*)", err)[0][:80]
    elif "Assertion `" in err:
        kind = "assert " + re.findall(r"Assertion `([^\n]*)' failed", err)[0][:80]
    elif "LLVM ERROR" in err:
        kind = "llvm-error " + re.findall(r"LLVM ERROR: ([^\n]*)", err)[0][:80]
    else:
        kind = "signal %d" % -result.rc if result.rc < 0 else "exit %d" % result.rc
    top = frames(err)
    return "%s | %s | %s" % (kind, context(err), top[0] if top else "?")


def load_known(path):
    """[(regex, description)] of known-upstream-crashes.txt."""
    known, description = [], ""
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                description = ""
            elif line.startswith("#"):
                description = (description + " " + line[1:].strip()).strip()
            elif line.strip():
                known.append((re.compile(line.strip(), re.S), description))
                description = ""
    return known


def project_evidence(result):
    """A project pass, op parser or function on the crashing stack."""
    names = [context(result.err)] + frames(result.err)[:12]
    return any("magicpig" in n.lower() for n in names)


class Attributor:
    def __init__(self, runner, known):
        self.runner, self.known = runner, known

    def same_crash(self, pipeline, text, sig):
        result = self.runner.run_one(pipeline, text)
        if result.timed_out:  # the reduced input may hang the same way
            return sig.startswith("timeout")
        return result.crashed and signature(result) == sig

    def reduce(self, pipeline, text, sig, budget_s=90):
        lines, n, deadline = text.split("\n"), 2, time.time() + budget_s
        while len(lines) > 1 and time.time() < deadline:
            size = max(1, len(lines) // n)
            for start in range(0, len(lines), size):
                candidate = lines[:start] + lines[start + size:]
                if self.same_crash(pipeline, "\n".join(candidate), sig):
                    lines, n = candidate, max(2, n - 1)
                    break
            else:
                if size == 1:
                    break
                n = min(len(lines), 2 * n)
        return "\n".join(lines)

    def local_reproducer(self, pipeline, text):
        """MLIR's local crash reproducer of a crash inside a pass (the crashing
        pass and its input), or None for a crash outside every pass."""
        if not pipeline:
            return None
        path = self.runner.write(text)
        repro = path + ".repro.mlir"
        try:
            self.runner.run(self.runner.opt + [
                "--mlir-disable-threading", "--mlir-pass-pipeline-local-reproducer",
                "--mlir-pass-pipeline-crash-reproducer=" + repro] + pipeline
                + [path, "-o", os.devnull], 3 * self.runner.timeout)
            if not os.path.exists(repro):
                return None
            with open(repro) as f:
                return f.read()
        finally:
            for p in (path, repro):
                if os.path.exists(p):
                    os.unlink(p)

    def upstream_shares(self, pipeline, text, result):
        """True when upstream mlir-opt crashes on the same input: the input
        of the crashing (upstream) pass, or the mutant when no pass runs."""
        if not self.runner.upstream or result.timed_out:
            return False
        repro = self.local_reproducer(pipeline, text)
        if "magicpig" in (repro or text):  # a project pass or op is involved
            return False
        path = self.runner.write(repro or text)
        try:
            up = self.runner.run(self.runner.upstream + (["--run-reproducer"] if repro else [])
                                 + [path, "-o", os.devnull], 3 * self.runner.timeout)
        finally:
            os.unlink(path)
        mine, theirs = frames(result.err)[:6], frames(up.err)[:6]
        return up.crashed and (not theirs or bool(set(mine) & set(theirs)))

    def attribute(self, pipeline, text, result):
        """(verdict, reduced text): known-upstream, upstream or project."""
        for regex, description in self.known:
            if regex.search(result.err):
                return "known-upstream: " + description, text
        sig = signature(result)
        # Not timeouts: every candidate that still hangs would cost the timeout.
        reduced = text if result.timed_out else self.reduce(pipeline, text, sig)
        if not project_evidence(result) and self.upstream_shares(pipeline, reduced, result):
            return "upstream (new: add it to known-upstream-crashes.txt)", reduced
        return "project", reduced


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

class Context:
    """What mutators draw from: corpus lines to splice, the sizes of dims."""

    def __init__(self, pool, dims):
        self.pool, self.dims = pool, dims


def make_batch(seed, index, corpus, pool, passes, size):
    rng = random.Random("%d:%d" % (seed, index))
    name, pieces, own = rng.choice(corpus)
    pipeline = choose_pipeline(rng, own, passes)
    ctx = Context(pool, DIMS + HUGE_DIMS)
    return name, pipeline, [mutate(rng.choice(pieces), rng, ctx) for _ in range(size)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--opt", required=True, help="magicpig-opt (a command line)")
    parser.add_argument("--upstream-opt", default="/usr/lib/llvm-22/bin/mlir-opt",
                        help="upstream mlir-opt (a command line; empty: none)")
    parser.add_argument("--corpus", default=os.path.dirname(HERE), help="the lit test tree")
    parser.add_argument("--known", default=os.path.join(HERE, "known-upstream-crashes.txt"))
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-budget", type=float, default=60,
                        help="seconds after which no new batch starts")
    parser.add_argument("--batch", type=int, default=16, help="mutants per process")
    parser.add_argument("--timeout", type=float, default=20,
                        help="seconds of one mutant (a batch gets twice that)")
    parser.add_argument("--memory-mb", type=int, default=4096)
    parser.add_argument("--max-piece", type=int, default=24000,
                        help="largest corpus piece (characters) taken")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--out-dir", help="where the project crash repros are saved")
    args = parser.parse_args()

    opt = shlex.split(args.opt)
    upstream = shlex.split(args.upstream_opt)
    corpus = load_corpus(args.corpus, args.max_piece)
    if not corpus:
        sys.exit("fuzz: no corpus under " + args.corpus)
    pool = [line for _, pieces, _ in corpus for p in pieces for line in p.split("\n")
            if line.strip()]
    passes = project_passes(opt)
    if not passes:
        sys.exit("fuzz: %s --help lists no magicpig pass" % args.opt)
    known = load_known(args.known) if os.path.exists(args.known) else []

    start = time.time()
    findings, mutants_run, passed = {}, 0, 0
    with tempfile.TemporaryDirectory(prefix="magicpig-fuzz-") as workdir:
        runner = Runner(opt, upstream, args.timeout, args.memory_mb, workdir)
        batches = (args.mutants + args.batch - 1) // args.batch
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool_exec:
            pending, index = {}, 0
            while pending or (index < batches and time.time() - start < args.time_budget):
                while (index < batches and len(pending) < 2 * args.jobs
                       and time.time() - start < args.time_budget):
                    size = min(args.batch, args.mutants - index * args.batch)
                    batch = make_batch(args.seed, index, corpus, pool, passes, size)
                    future = pool_exec.submit(runner.run_batch, batch[1], batch[2])
                    pending[future] = batch
                    index += 1
                done, _ = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    name, pipeline, mutants = pending.pop(future)
                    mutants_run += len(mutants)
                    crashes, ok = future.result()
                    passed += ok
                    for text, result in crashes:
                        sig = signature(result)
                        best = findings.get(sig)
                        if best is None or len(text) < len(best[2]):
                            findings[sig] = (name, pipeline, text, result)
        elapsed = time.time() - start
        attributor = Attributor(runner, known)
        project, upstream_found = [], []
        for sig, (name, pipeline, text, result) in sorted(findings.items()):
            verdict, reduced = attributor.attribute(pipeline, text, result)
            (project if verdict == "project" else upstream_found).append(
                (sig, verdict, name, pipeline, reduced, result))

    print("fuzz: %d mutants (seed %d) in %.1f s: %.1f mutants/s, %d jobs; %d passed "
          "their pipeline, the others failed with a diagnostic or crashed"
          % (mutants_run, args.seed, elapsed, mutants_run / max(elapsed, 1e-9), args.jobs,
             passed))
    for sig, verdict, name, pipeline, _, _ in upstream_found:
        print("fuzz: upstream crash [%s] from %s (%s)" % (sig, name, verdict))
    for i, (sig, verdict, name, pipeline, text, result) in enumerate(project):
        command = " ".join(shlex.quote(a) for a in opt + ["--mlir-disable-threading"]
                           + pipeline + ["repro.mlir"])
        print("fuzz: PROJECT CRASH [%s] from %s\nfuzz: command: %s" % (sig, name, command))
        print("fuzz: mutant:\n%s\nfuzz: end of mutant; stderr:\n%s"
              % (text, "\n".join(result.err.split("\n")[:40])))
        if args.out_dir:
            os.makedirs(args.out_dir, exist_ok=True)
            path = os.path.join(args.out_dir, "crash-%d.mlir" % i)
            with open(path, "w") as f:
                f.write("// %s\n// RUN: %s\n%s\n" % (sig, command.replace("repro.mlir", "%s"), text))
            print("fuzz: saved " + path)
    print("fuzz: %d project crashes, %d upstream crashes" % (len(project), len(upstream_found)))
    return 1 if project else 0


if __name__ == "__main__":
    sys.exit(main())
