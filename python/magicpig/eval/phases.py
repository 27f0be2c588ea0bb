"""The phases of `python3 -m magicpig.eval`, sharing model, text and caches.

Captured caches are stored in the work dir (`capture_<N>_q<queries>.npz`)
and reused by every phase and run: the text is prefilled once per context
length. Results go to `results.json` (plus `layers_<N>.npz`, the per head
arrays) as each phase, context or haystack completes, so an interrupted run
keeps what it measured and a re-run of the needle phase resumes. Each file
is written aside and renamed when complete (magicpig.cache_io); a stored
file that does not load is measured again after a note.
"""

import dataclasses
import math
import os
import time

import numpy as np

from magicpig.cache_io import atomic_file, cache_writes, note_rebuild
from magicpig.cli import progress
from magicpig.eval import capture as capture_mod
from magicpig.eval import compiled_check, endtoend, layer_error, needle
from magicpig.eval.perplexity import perplexity


class Context:
    def __init__(self, args, base, work, results, command, methods, load=True):
        self.args = args
        self.base = base
        self.work = work
        self.results = results
        self.command = command
        self.methods = methods
        self.model = self.tokenizer = self.corpus = None
        if load:
            from magicpig.eval.corpus import Corpus
            from magicpig.gguf_model import load_llama
            from magicpig.model_store import fetch_model
            from magicpig.tokenizer import Tokenizer

            path = args.gguf or fetch_model()
            progress(f"loading {path}")
            self.model = load_llama(path)
            self.tokenizer = Tokenizer.from_gguf(path)
            self.corpus = Corpus(self.tokenizer)
            self.results.data["model"] = os.path.basename(path)

    @property
    def config(self):
        return self.model.config

    def layers(self):
        if self.args.layers is None:
            return list(range(self.config.num_layers))
        return self.args.layers

    def capture_path(self, n):
        return os.path.join(self.work, f"capture_{n}_q{self.args.queries}.npz")

    def capture(self, n):
        path = self.capture_path(n)
        if os.path.isfile(path):
            try:
                with np.load(path) as z:
                    return capture_mod.Capture(z["keys"], z["values"], z["queries"],
                                               z["logits"])
            except Exception as e:  # a damaged cache entry: capture it again
                note_rebuild(path, e)
        progress(f"prefill of {n} tokens of license text (capture)")
        start = time.perf_counter()
        cap = capture_mod.prefill(self.model, self.corpus.capture_text(n), self.args.queries)
        progress(f"  {time.perf_counter() - start:.0f} s")
        with cache_writes(path), atomic_file(path, "wb") as f:
            np.savez(f, keys=cap.keys, values=cap.values, queries=cap.queries,
                     logits=cap.logits)
        return cap

    def default_options(self):
        if self.args.default:
            k, l = self.args.default[0]
        else:
            k, l = self.results.data.get("default", {}).get("config", (10, 150))
        return dataclasses.replace(self.base, lsh_bits=k, lsh_tables=l)

    def record(self, key, value):
        value = dict(value, eval_command=self.command)
        self.results.data[key] = value
        self.results.save([key, "default"] if key == "layers" else [key])


def _loads(path):
    """Whether the .npz at `path` is there and reads whole (else a note)."""
    if not os.path.isfile(path):
        return False
    try:
        with np.load(path) as z:
            for name in z.files:
                z[name]
    except Exception as e:  # damaged: measured again
        note_rebuild(path, e)
        return False
    return True


def run_layers(ctx):
    """Resumable per context: a context whose per head arrays exist for the
    same layers, queries, configs and budget grid is not measured again."""
    a = ctx.args
    dense = ctx.base.dense_layer_set(ctx.config.num_layers)
    sparse = [l for l in ctx.layers() if l not in dense]
    settings = [ctx.layers(), a.queries, [list(c) for c in a.configs], a.fractions,
                [ctx.base.min_collisions, ctx.base.sink_tokens, ctx.base.window_tokens,
                 ctx.base.seed]]
    old = ctx.results.data.get("layers", {})
    keep = old.get("settings") == settings
    summary = dict(old.get("summary", {})) if keep else {}
    files = dict(old.get("files", {})) if keep else {}
    commands = dict(old.get("commands", {})) if keep else {}
    for n in a.contexts:
        if str(n) in summary and _loads(os.path.join(ctx.work, files[str(n)])):
            progress(f"layer study at {n} tokens: stored, skipped")
            continue
        cap = ctx.capture(n)
        progress(f"layer study at {n} tokens: {len(ctx.layers())} layers, "
                 f"{len(a.configs)} configs, {a.queries} queries")
        study = layer_error.run(cap, a.configs, ctx.layers(), ctx.base, a.fractions,
                                seed=a.seed)
        files[str(n)] = f"layers_{n}.npz"
        path = os.path.join(ctx.work, files[str(n)])
        with cache_writes(path), atomic_file(path, "wb") as f:
            np.savez(f, **study.to_arrays(""))
        summary[str(n)] = layer_error.summarize(study, set(sparse))
        commands[str(n)] = ctx.command
        config, reason = layer_error.choose_default(summary, *a.target_budget)
        ctx.results.data["default"] = {"config": list(config), "reason": reason}
        ctx.record("layers", {"settings": settings, "files": files, "summary": summary,
                              "commands": commands,
                              "sources": ctx.corpus.sources.get("capture", []),
                              "queries": a.queries, "layers": ctx.layers(),
                              "dense_layers": sorted(dense), "configs": a.configs,
                              "fractions": a.fractions})
        progress(f"default (K, L) so far = {config}: {reason}")


def run_compiled(ctx):
    a = ctx.args
    options = ctx.default_options()
    for n in a.compiled_contexts or a.contexts:
        cap = ctx.capture(n)
        out = compiled_check.run(ctx.capture_path(n), cap, a.compiled_layers, options,
                                 os.path.join(ctx.work, "compiled"), a.compiler)
        rows = out["rows"]
        if not rows:
            progress(f"compiled check failed: {out['failure']}")
            ctx.record(f"compiled@{n}", out)
            continue
        out["max_compiled_vs_ref"] = max(r["compiled_vs_ref"] for r in rows)
        out["max_err_diff"] = max(abs(r["compiled_err"] - r["ref_err"]) for r in rows)
        counted = [r for r in rows if r["compiled_touched"] is not None]
        out["touched_equal"] = sum(r["compiled_touched"] == r["touched"] for r in counted)
        out["touched_compared"] = len(counted)
        progress(f"compiled vs reference at {n} tokens: max relative output difference "
                 f"{out['max_compiled_vs_ref']:.2e}, max error difference "
                 f"{out['max_err_diff']:.2e}, keys touched equal in {out['touched_equal']}"
                 f"/{out['touched_compared']}")
        ctx.record(f"compiled@{n}", out)


def run_ppl(ctx):
    a = ctx.args
    options = ctx.default_options()
    for n in a.contexts:
        out = {"options": [options.lsh_bits, options.lsh_tables], "tokens": a.ppl_tokens,
               "texts": a.ppl_texts, "context": n}
        texts = ctx.corpus.ppl_texts(a.ppl_texts, n)
        per = {m: {"nll": [], "touched": []} for m in ctx.methods}
        for ti, text in enumerate(texts):
            start = time.perf_counter()
            cap = capture_mod.prefill(ctx.model, text[:n - a.ppl_tokens])
            res = endtoend.run_methods(ctx.model, cap, text[n - a.ppl_tokens:], 0,
                                       options, ctx.methods)
            for m, r in res.items():
                per[m]["nll"] += r.nll
                per[m]["touched"].append(r.touched)
            progress(f"  perplexity {n} tokens, text {ti + 1}/{len(texts)}: " + ", ".join(
                f"{m} {perplexity(r.nll):.3f}" for m, r in res.items())
                + f" ({time.perf_counter() - start:.0f} s)")
        # The per-token NLLs are kept for the report's paired confidence
        # intervals (the same tokens are scored by every method).
        out["methods"] = {m: {"ppl": perplexity(v["nll"]), "scored": len(v["nll"]),
                              "touched": float(np.mean(v["touched"])),
                              "nll": [float(x) for x in v["nll"]]}
                          for m, v in per.items()}
        out["sources"] = ctx.corpus.sources.get("perplexity", [])
        ctx.record(f"ppl@{n}", out)


def run_needle(ctx):
    """Results per context (`needle@<N>`); resumes a context whose stored
    cases were run with the same settings, haystack by haystack."""
    a = ctx.args
    options = ctx.default_options()
    settings = [options.lsh_bits, options.lsh_tables, a.needles, a.seed, ctx.methods]
    haystacks = math.ceil(a.cases / a.needles)
    segments = ctx.corpus.haystacks(haystacks, max(a.contexts))
    for n in a.contexts:
        old = ctx.results.data.get(f"needle@{n}", {})
        out = {"settings": settings, "options": [options.lsh_bits, options.lsh_tables],
               "needles": a.needles, "methods": ctx.methods, "context": n,
               "sources": ctx.corpus.sources.get("needle haystacks", []),
               "cases": old.get("cases", []) if old.get("settings") == settings else []}
        cases = out["cases"]
        done = {c["haystack"] for c in cases}
        stacks = needle.make_haystacks(ctx.tokenizer, [s[:n] for s in segments], n,
                                       a.needles, a.seed)
        for hi, h in enumerate(stacks):
            if hi in done:
                continue
            start = time.perf_counter()
            cap = capture_mod.prefill(ctx.model, h.prompt)
            for qi in range(a.needles):
                if hi * a.needles + qi >= a.cases:
                    break
                res = endtoend.run_methods(ctx.model, cap, h.questions[qi],
                                           needle.ANSWER_TOKENS, options, ctx.methods,
                                           ctx.tokenizer.eos_token_id)
                case = _needle_case(h, hi, qi)
                for m, r in res.items():
                    case[m] = _needle_answer(ctx, h, qi, r)
                cases.append(case)
            got = [c for c in cases if c["haystack"] == hi]
            progress(f"  needle {n} tokens, haystack {hi + 1}/{len(stacks)}: " + ", ".join(
                f"{m} {sum(c[m]['correct'] for c in got)}/{len(got)}" for m in ctx.methods)
                + f" ({time.perf_counter() - start:.0f} s)")
            ctx.record(f"needle@{n}", out)


def _needle_case(haystack, hi, qi):
    return {"haystack": hi, "needle": qi, "key": haystack.keys[qi],
            "depth": haystack.depths[qi], "prompt_tokens": len(haystack.prompt)}


def _needle_answer(ctx, haystack, qi, result):
    answer = needle.answer_of(ctx.tokenizer, result.generated)
    return {"answer": answer, "correct": answer == haystack.keys[qi],
            "touched": result.touched}


def run_kl(ctx):
    """Passkey cases answered by dense and by MagicPIG at each --kl-configs
    (K, L), every method on the same cases (`kl@<N>`): the (K, L) choice
    end to end. Not resumable: a context is stored when it is complete."""
    a = ctx.args
    configs = [list(c) for c in a.kl_configs]
    segments = ctx.corpus.haystacks(math.ceil(a.cases / a.needles), max(a.contexts))
    eos = ctx.tokenizer.eos_token_id
    for n in a.contexts:
        out = {"configs": configs, "needles": a.needles, "context": n,
               "sources": ctx.corpus.sources.get("needle haystacks", []), "cases": []}
        stacks = needle.make_haystacks(ctx.tokenizer, [s[:n] for s in segments], n,
                                       a.needles, a.seed)
        for hi, h in enumerate(stacks):
            start = time.perf_counter()
            cap = capture_mod.prefill(ctx.model, h.prompt)
            for qi in range(min(a.needles, a.cases - hi * a.needles)):
                case = _needle_case(h, hi, qi)
                dense = endtoend.run_methods(ctx.model, cap, h.questions[qi],
                                             needle.ANSWER_TOKENS, ctx.base, ["dense"],
                                             eos)["dense"]
                case["dense"] = _needle_answer(ctx, h, qi, dense)
                for k, l in configs:
                    options = dataclasses.replace(ctx.base, lsh_bits=k, lsh_tables=l)
                    r = endtoend.run_methods(ctx.model, cap, h.questions[qi],
                                             needle.ANSWER_TOKENS, options, ["magicpig"],
                                             eos)["magicpig"]
                    case[f"{k}x{l}"] = _needle_answer(ctx, h, qi, r)
                out["cases"].append(case)
            got = [c for c in out["cases"] if c["haystack"] == hi]
            progress(f"  (K, L) passkey {n} tokens, haystack {hi + 1}/{len(stacks)}: "
                     + ", ".join(f"{m} {sum(c[m]['correct'] for c in got)}/{len(got)}"
                                 for m in ["dense"] + [f"{k}x{l}" for k, l in configs])
                     + f" ({time.perf_counter() - start:.0f} s)")
        ctx.record(f"kl@{n}", out)


def run_report(ctx):
    from magicpig.eval import report

    report.write(ctx.results.data, ctx.work, ctx.args.out, ctx.args.plots)
    progress(f"wrote {ctx.args.out} and {ctx.args.plots}/*.png")
