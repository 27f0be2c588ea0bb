"""llama.cpp's batched greedy decode throughput on a GGUF, the peer to the
project's own batched decode in the benchmarks.

    python3 bench/llama_cpp_decode.py --gguf FILE.gguf \\
        --tokens 4096 8192 --batch 1 4 8 16 --steps 16 [--threads 2] \\
        [--text /usr/share/common-licenses/GPL-2]

Any python3 may start it. On first use it makes its own venv,
~/.cache/magicpig/llama-cpp-venv, and builds llama-cpp-python (a pinned
version, from PyPI's sdist: a CPU-only build of llama.cpp, several minutes),
then runs itself again under that venv's python.

For each --tokens N the prompt is the --text file, repeated and cut to
exactly N of llama.cpp's tokens, decoded once into sequence 0 with the
low-level API (llama_batch / llama_decode). For each --batch B, sequence 0's
KV cache is copied to sequences 1..B-1 and --steps decode steps are timed:
each step is one llama_decode of B tokens, one per sequence at position
N + step, with the next token of each sequence the argmax of its logits.
One untimed step runs first (then is taken back out of the cache).

stdout: one JSON line per (N, B):
    {"system": "llama.cpp", "version", "tokens", "batch", "ms_per_step",
     "tokens_per_s" (B * steps / seconds), "peak_rss_mib", "load"}
Progress goes to stderr. Bad input: a one-line error and exit status 2.

llama.cpp's worker threads (OpenMP here) spin while they wait for each other,
so when other processes hold the cores, --threads 2 on 2 cores can be many
times slower than --threads 1; OMP_WAIT_POLICY=passive in the environment
makes them sleep instead. The script leaves that to the caller.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

LLAMA_CPP_VERSION = "0.3.36"
VENV = os.path.expanduser("~/.cache/magicpig/llama-cpp-venv")
TEXT = "/usr/share/common-licenses/GPL-2"
# CPU only, with this machine's vector extensions named one by one rather than
# -march=native: native also turns on ggml's AMX kernels, and those crash
# (SIGSEGV at ldtilecfg in ggml_backend_amx_mul_mat) in the first llama_decode
# here. No multimodal library: not needed, and it adds to the build time.
DEFAULT_CMAKE_ARGS = " ".join([
    "-DGGML_NATIVE=OFF", "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON",
    "-DGGML_F16C=ON", "-DGGML_BMI2=ON", "-DGGML_AVX_VNNI=ON", "-DGGML_AVX512=ON",
    "-DGGML_AVX512_VBMI=ON", "-DGGML_AVX512_VNNI=ON", "-DGGML_AVX512_BF16=ON",
    "-DLLAVA_BUILD=OFF"])
PROMPT_CHUNK = 512  # n_batch / n_ubatch: the prompt is decoded in chunks this long


class BadInput(Exception):
    """An error in the arguments: reported in one line, exit status 2."""


def say(*args):
    print("[llama_cpp_decode]", *args, file=sys.stderr, flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gguf", required=True, help="the model file")
    p.add_argument("--tokens", type=int, nargs="+", required=True,
                   help="prompt lengths N in tokens")
    p.add_argument("--batch", type=int, nargs="+", required=True,
                   help="batch sizes B (sequences decoded together)")
    p.add_argument("--steps", type=int, default=16, help="timed decode steps")
    p.add_argument("--threads", type=int, default=2,
                   help="n_threads and n_threads_batch (default 2)")
    p.add_argument("--text", default=TEXT, help="the prompt's text (repeated)")
    args = p.parse_args(argv)
    for name in ("tokens", "batch"):
        if min(getattr(args, name)) < 1:
            p.error(f"--{name} must be positive")
    if args.steps < 1 or args.threads < 1:
        p.error("--steps and --threads must be positive")
    return args


def check_files(args):
    """Before the (perhaps long) install: the files are there."""
    for flag, path in (("--gguf", args.gguf), ("--text", args.text)):
        if not os.path.isfile(path):
            raise BadInput(f"{flag} {path}: no such file")
    with open(args.gguf, "rb") as f:
        if f.read(4) != b"GGUF":
            raise BadInput(f"--gguf {args.gguf}: not a GGUF file")


# --- the venv ---------------------------------------------------------------

def venv_python():
    return os.path.join(VENV, "bin", "python")


def running_in_venv():
    return os.path.realpath(sys.prefix) == os.path.realpath(VENV)


def venv_has_llama_cpp():
    if not os.path.exists(venv_python()):
        return False
    probe = subprocess.run(
        [venv_python(), "-c", "import llama_cpp; print(llama_cpp.__version__)"],
        capture_output=True, text=True)
    return probe.returncode == 0 and probe.stdout.strip() == LLAMA_CPP_VERSION


def install():
    """Make the venv and build llama-cpp-python into it, printing a progress
    line every half minute (pip's own output goes to a log file: it is long)."""
    import fcntl

    os.makedirs(os.path.dirname(VENV), exist_ok=True)
    # Two benchmark runs starting at once must not build into the same venv.
    with open(VENV + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if venv_has_llama_cpp():
            return
        if not os.path.exists(venv_python()):
            say(f"creating {VENV}")
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        env = dict(os.environ)
        env.setdefault("CMAKE_ARGS", DEFAULT_CMAKE_ARGS)
        env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        log_path = os.path.join(VENV, "install.log")
        say(f"building llama-cpp-python=={LLAMA_CPP_VERSION} "
            f"(CMAKE_ARGS={env['CMAKE_ARGS']}); several minutes; log: {log_path}")
        start = time.time()
        with open(log_path, "w") as log:
            pip = subprocess.Popen(
                [venv_python(), "-m", "pip", "install", "--no-cache-dir", "-v",
                 f"llama-cpp-python=={LLAMA_CPP_VERSION}"],
                stdout=log, stderr=subprocess.STDOUT, env=env)
            while True:
                try:
                    pip.wait(timeout=30)
                    break
                except subprocess.TimeoutExpired:
                    say(f"  still installing, {time.time() - start:.0f} s: "
                        f"{last_line(log_path)}")
        if pip.returncode != 0:
            raise RuntimeError(f"pip install failed (status {pip.returncode}); "
                               f"see {log_path}: {last_line(log_path)}")
        say(f"installed in {time.time() - start:.0f} s")


def last_line(path, width=100):
    with open(path, errors="replace") as f:
        lines = [l.strip() for l in f.read().splitlines()[-20:] if l.strip()]
    return lines[-1][:width] if lines else ""


def reexec_in_venv():
    if not venv_has_llama_cpp():
        install()
    # Guard against a loop should the venv's python not be the venv after all.
    if os.environ.get("MAGICPIG_LLAMA_CPP_REEXEC"):
        raise RuntimeError(f"{venv_python()} does not run in {VENV}")
    os.environ["MAGICPIG_LLAMA_CPP_REEXEC"] = "1"
    sys.stderr.flush()
    os.execv(venv_python(), [venv_python(), os.path.abspath(__file__)] + sys.argv[1:])


# --- the benchmark (under the venv) -----------------------------------------

def quiet_llama_logs(llama_cpp):
    """Pass on llama.cpp's warnings and errors only (its info lines run to
    hundreds per model load)."""
    warn, cont = 3, 5  # GGML_LOG_LEVEL_WARN, GGML_LOG_LEVEL_CONT
    last = [0]

    @llama_cpp.llama_log_callback
    def callback(level, text, _user_data):
        if level != cont:
            last[0] = level
        if last[0] >= warn:
            sys.stderr.write(text.decode("utf-8", "replace"))

    llama_cpp.llama_log_set(callback, None)
    # llama.cpp holds only a pointer: keep the callback alive to the end,
    # exit included.
    global _log_callback
    _log_callback = callback


def prompt_tokens(llama_cpp, vocab, text, n):
    """Exactly `n` token ids of `text` repeated (the BOS in front where the
    GGUF asks for one)."""
    def tokenize(s):
        data = s.encode("utf-8")
        room = len(data) + 16  # a token covers at least one byte
        out = (llama_cpp.llama_token * room)()
        count = llama_cpp.llama_tokenize(vocab, data, len(data), out, room, True, False)
        if count < 0:
            raise RuntimeError("llama_tokenize failed")
        return list(out[:count])

    per_copy = len(tokenize(text))
    copies = n // max(per_copy, 1) + 1
    while True:
        ids = tokenize(text * copies)
        if len(ids) >= n:
            return ids[:n]
        copies += 1


def fill(batch, tokens, positions, seqs, want_logits):
    """Put the tokens into the llama_batch, one sequence id each."""
    for i, (tok, pos, seq, logits) in enumerate(zip(tokens, positions, seqs, want_logits)):
        batch.token[i] = tok
        batch.pos[i] = pos
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = seq
        batch.logits[i] = logits
    batch.n_tokens = len(tokens)


def decode(llama_cpp, ctx, batch):
    status = llama_cpp.llama_decode(ctx, batch)
    if status != 0:
        raise RuntimeError(f"llama_decode returned {status}")


def greedy(np, llama_cpp, ctx, positions_in_batch, n_vocab):
    """The argmax of the logits of each of the given tokens of the last batch
    (an index into the batch, negative from its end)."""
    out = []
    for i in positions_in_batch:
        logits = llama_cpp.llama_get_logits_ith(ctx, i)
        if not logits:
            raise RuntimeError(f"no logits for batch token {i}")
        out.append(int(np.ctypeslib.as_array(logits, shape=(n_vocab,)).argmax()))
    return out


def bench_length(llama_cpp, np, model, vocab, args, n, report):
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    max_b = max(args.batch)
    ids = prompt_tokens(llama_cpp, vocab, open(args.text, errors="replace").read(), n)

    params = llama_cpp.llama_context_default_params()
    # The KV cache is split evenly between the sequences (kv_unified is off by
    # default), so each gets N + steps cells, rounded up to llama.cpp's 256.
    per_seq = -(-(n + args.steps) // 256) * 256
    params.n_ctx = max_b * per_seq
    params.n_batch = params.n_ubatch = max(PROMPT_CHUNK, max_b)
    params.n_seq_max = max_b
    params.n_threads = params.n_threads_batch = args.threads
    ctx = llama_cpp.llama_init_from_model(model, params)
    if not ctx:
        raise RuntimeError(f"llama_init_from_model failed (n_ctx {params.n_ctx})")
    mem = llama_cpp.llama_get_memory(ctx)
    batch = llama_cpp.llama_batch_init(params.n_batch, 0, 1)
    try:
        say(f"N={n}: prefill of {n} tokens")
        start = time.perf_counter()
        for at in range(0, n, PROMPT_CHUNK):
            chunk = ids[at:at + PROMPT_CHUNK]
            last = at + len(chunk) == n
            fill(batch, chunk, range(at, at + len(chunk)), [0] * len(chunk),
                 [0] * (len(chunk) - 1) + [1 if last else 0])
            decode(llama_cpp, ctx, batch)
        first = greedy(np, llama_cpp, ctx, [-1], n_vocab)[0]  # the last prompt token's
        say(f"N={n}: prefill took {time.perf_counter() - start:.1f} s")

        for b in args.batch:
            for seq in range(1, b):
                llama_cpp.llama_memory_seq_cp(mem, 0, seq, -1, -1)

            def step(tokens, pos):
                fill(batch, tokens, [pos] * b, range(b), [1] * b)
                decode(llama_cpp, ctx, batch)
                return greedy(np, llama_cpp, ctx, range(b), n_vocab)

            # Warm-up: the first step, then taken back out so that the timed
            # steps are at positions N .. N + steps - 1.
            step([first] * b, n)
            for seq in range(b):
                llama_cpp.llama_memory_seq_rm(mem, seq, n, -1)

            tokens = [first] * b
            start = time.perf_counter()
            for s in range(args.steps):
                tokens = step(tokens, n + s)
            seconds = time.perf_counter() - start

            report(n, b, seconds)
            # Back to sequence 0 alone, N tokens long, for the next batch size.
            for seq in range(1, b):
                llama_cpp.llama_memory_seq_rm(mem, seq, -1, -1)
            llama_cpp.llama_memory_seq_rm(mem, 0, n, -1)
    finally:
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_free(ctx)


def run(args):
    import numpy as np
    import llama_cpp

    quiet_llama_logs(llama_cpp)
    llama_cpp.llama_backend_init()
    mparams = llama_cpp.llama_model_default_params()
    mparams.n_gpu_layers = 0
    say(f"llama-cpp-python {llama_cpp.__version__}: loading {args.gguf}")
    model = llama_cpp.llama_model_load_from_file(args.gguf.encode(), mparams)
    if not model:
        raise BadInput(f"--gguf {args.gguf}: llama.cpp cannot load it")
    vocab = llama_cpp.llama_model_get_vocab(model)
    n_ctx_train = llama_cpp.llama_model_n_ctx_train(model)
    too_long = [n for n in args.tokens if n + args.steps > n_ctx_train]
    if too_long:
        raise BadInput(f"--tokens {too_long[0]} + --steps {args.steps} is over the "
                       f"model's context ({n_ctx_train} tokens)")

    def report(n, b, seconds):
        row = {
            "system": "llama.cpp",
            "version": llama_cpp.__version__,
            "tokens": n,
            "batch": b,
            "ms_per_step": round(seconds / args.steps * 1000, 3),
            "tokens_per_s": round(b * args.steps / seconds, 2),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "load": os.getloadavg()[0],
        }
        print(json.dumps(row), flush=True)

    try:
        for n in args.tokens:
            bench_length(llama_cpp, np, model, vocab, args, n, report)
    finally:
        llama_cpp.llama_model_free(model)


def main(argv=None):
    args = parse_args(argv)
    try:
        check_files(args)
        if not running_in_venv():
            reexec_in_venv()  # does not return
        run(args)
    except BadInput as e:
        print(f"llama_cpp_decode.py: error: {e}", file=sys.stderr)
        return 2
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"llama_cpp_decode.py: failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
