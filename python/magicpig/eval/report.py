"""docs/accuracy.md and docs/accuracy/*.png from the stored results.

Everything in the page is computed here from results.json and the per head
arrays of the layers phase; nothing is typed in by hand.
"""

import os

import numpy as np

from magicpig.eval import intervals
from magicpig.eval.layer_error import LayerStudy

NAMES = {"magicpig": "MagicPIG", "topk": "oracle TopK", "quest": "Quest",
         "oracle": "oracle sampling", "dense": "dense"}
COLORS = {"magicpig": "tab:red", "topk": "tab:blue", "quest": "tab:green",
          "oracle": "tab:purple", "dense": "black"}


METHOD_NOTES = """## Methods and how budgets are counted

- **Exact**: softmax attention over every cached key (float64 in the per
  layer study).
- **MagicPIG**: the numpy reference of the sparsified layer
  (`magicpig.reference`, the same math the compiler generates): keys
  centered by the mean of the hashed middle, SimHash with the compiler's
  seeded projection, T = 2 collisions out of L tables, importance weights
  -log u, exact attention over 4 sink + 64 window tokens (and the tokens
  generated after the prefill), merged by log-sum-exp.
- **Oracle TopK**: exact softmax over the b keys of highest true score.
- **Quest**: per page of 16 keys the element-wise min and max of the keys;
  pages ranked by the upper bound sum_i max(q_i min_i, q_i max_i) of the
  score, the best round(b / 16) pages attended exactly. No sink or window
  allowance is added (plain Quest); the min/max metadata reads are not
  counted as keys touched.
- **Oracle sampling**: keys drawn i.i.d. from the exact softmax until b
  distinct keys were drawn; output = mean of the drawn values.
- **Budgets are measured**: for MagicPIG, per head and query, sink + window
  + retrieved keys; the baselines then get that same count b for the same
  head and query (TopK exactly b, Quest the nearest whole number of pages,
  oracle sampling at most b when the softmax is too peaked to yield b
  distinct keys), and their own reads are counted and reported. End to end,
  TopK and Quest read, per sparse layer and step, MagicPIG's measured
  fraction on the same prompt. MagicPIG's dense layers (0 and 15) are dense
  for every method end to end; fractions are over the other 28 layers.
- **End to end** runs the PyTorch model (`magicpig.llama` weights, the
  SmolLM2-135M-Instruct Q4_1 GGUF dequantized) with a dense prefill, then
  decode steps with the method's attention; the decode step writes K/V in
  place and is checked equal to `Llama.decode` by python/tests/test_eval.py.
"""


def _pct(x):
    return f"{100 * x:.2f}%"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _load_studies(data, work):
    layers = data.get("layers")
    if not layers:
        return {}
    out = {}
    for n, name in layers["files"].items():
        path = os.path.join(work, name)
        if os.path.isfile(path):
            z = dict(np.load(path))
            out[int(n)] = LayerStudy.from_arrays(z, "")
    return out


def _sparse_index(study, dense):
    return [i for i, l in enumerate(study.layers) if l not in dense]


def plot_error_vs_budget(studies, dense, path):
    plt = _plt()
    fig, axes = plt.subplots(1, len(studies), figsize=(5 * len(studies), 4), squeeze=False)
    for ax, (n, st) in zip(axes[0], sorted(studies.items())):
        keep = _sparse_index(st, dense)
        for m in ("topk", "quest", "oracle"):
            x = [np.nanmean(st.grid_frac[m][fi][keep]) for fi in range(len(st.fractions))]
            y = [np.nanmean(st.grid_err[m][fi][keep]) for fi in range(len(st.fractions))]
            ax.plot(x, y, "o-", color=COLORS[m], label=NAMES[m])
        x = [np.nanmean(st.frac["magicpig"][ci][keep]) for ci in range(len(st.configs))]
        y = [np.nanmean(st.err["magicpig"][ci][keep]) for ci in range(len(st.configs))]
        ax.plot(x, y, "s", color=COLORS["magicpig"], label="MagicPIG (K, L)")
        for (k, l), xi, yi in zip(st.configs, x, y):
            ax.annotate(f"{k},{l}", (xi, yi), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        ax.axvspan(0.03, 0.05, color="0.9")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("keys touched (measured fraction)")
        ax.set_ylabel("relative L2 error (mean, sparse layers)")
        ax.set_title(f"{n} tokens")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_head_ratio(studies, ci, path):
    plt = _plt()
    fig, axes = plt.subplots(1, len(studies), figsize=(4 * len(studies), 6), squeeze=False)
    for ax, (n, st) in zip(axes[0], sorted(studies.items())):
        mp = np.nanmean(st.err["magicpig"][ci], axis=-1)
        tk = np.nanmean(st.err["topk"][ci], axis=-1)
        ratio = np.log2(mp / np.maximum(tk, 1e-12))
        im = ax.imshow(ratio, cmap="RdBu_r", vmin=-3, vmax=3, aspect="auto")
        ax.set_yticks(range(len(st.layers)))
        ax.set_yticklabels(st.layers, fontsize=6)
        ax.set_xlabel("query head")
        ax.set_ylabel("layer")
        ax.set_title(f"{n} tokens", fontsize=9)
    fig.colorbar(im, ax=axes[0].tolist(), label="log2(MagicPIG error / TopK error)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_sweep(summary, path):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for n, rows in sorted(summary.items(), key=lambda t: int(t[0])):
        ax.plot([r["frac_magicpig"] for r in rows], [r["err_magicpig"] for r in rows], "o",
                label=f"MagicPIG, {n} tokens")
        for r in rows:
            ax.annotate(f"{r['K']},{r['L']}", (r["frac_magicpig"], r["err_magicpig"]),
                        fontsize=6, xytext=(2, 2), textcoords="offset points")
    ax.axvspan(0.03, 0.05, color="0.9")
    ax.set_xscale("log")
    ax.set_xlabel("keys touched (measured fraction)")
    ax.set_ylabel("relative L2 error (mean, sparse layers)")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_needle(needle, methods, path):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    contexts = sorted(int(n) for n, cases in needle["contexts"].items() if cases)
    for m in methods:
        acc = [np.mean([c[m]["correct"] for c in needle["contexts"][str(n)]]) for n in contexts]
        ax.plot(contexts, acc, "o-", color=COLORS[m], label=NAMES[m])
    ax.set_xscale("log", base=2)
    ax.set_xticks(contexts)
    ax.set_xticklabels([str(n) for n in contexts])
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("context (tokens)")
    ax.set_ylabel("passkey accuracy")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _gather(data):
    """ppl@N / needle@N entries -> data["ppl"] / data["needle"] with
    per context tables."""
    data = dict(data)
    ppl = {k.split("@")[1]: v for k, v in data.items() if k.startswith("ppl@")}
    if ppl:
        first = next(iter(ppl.values()))
        sources = sorted({x for v in ppl.values() for x in v.get("sources", [])})
        data["ppl"] = dict(first, contexts={n: v["methods"] for n, v in ppl.items()},
                           sources=sources)
    nd = {k.split("@")[1]: v for k, v in data.items() if k.startswith("needle@")}
    if nd:
        first = max(nd.values(), key=lambda v: len(v.get("sources", [])))
        data["needle"] = dict(first, contexts={n: v["cases"] for n, v in nd.items()})
    data["kl"] = {k.split("@")[1]: v for k, v in data.items() if k.startswith("kl@")}
    return data


def write(data, work, out_path, plot_dir):
    data = _gather(data)
    os.makedirs(plot_dir, exist_ok=True)
    rel = os.path.relpath(plot_dir, os.path.dirname(os.path.abspath(out_path)) or ".")
    data["_rel"], data["_plot_dir"] = rel, plot_dir
    studies = _load_studies(data, work)
    L = []
    L.append("# Accuracy: MagicPIG vs TopK vs Quest vs exact on SmolLM2-135M\n")
    L.append("Generated by `python3 -m magicpig.eval` (python/magicpig/eval/); every "
             "number and plot below is measured by that command and written by its "
             "`report` phase. Do not edit by hand.\n")
    L.append("## How this page was produced\n")
    commands = {}
    for key in sorted(data):
        if (key == "layers" or "@" in key) and \
                isinstance(data[key], dict) and "eval_command" in data[key]:
            commands.setdefault(data[key]["eval_command"], []).append(key)
    for command, keys in commands.items():
        L.append(f"- `{command}` ({', '.join(keys)})")
    times = data.get("timings", {})
    if times:
        L.append("\nWall time per phase (this machine, 1 thread, shared with other jobs): "
                 + ", ".join(f"{k} {v / 60:.1f} min" for k, v in sorted(times.items())))
    L.append("")
    L.append(run_sizes(data))

    L.append(METHOD_NOTES)
    layers = data.get("layers")
    dense = set(layers["dense_layers"]) if layers else set()
    if layers:
        L.append("## Per layer and head: output error at matched budgets\n")
        L.append(f"Caches captured from {len(layers['sources'])} license text(s) "
                 f"({', '.join(os.path.basename(s) for s in layers['sources'])}, "
                 f"/usr/share/common-licenses); {layers['queries']} decode queries per "
                 f"context (the last positions of the text; the index is built on the "
                 f"tokens before them). Layers {layers['layers'][0]}..{layers['layers'][-1]}"
                 f" ({len(layers['layers'])}); MagicPIG's dense layers "
                 f"{sorted(dense)} are excluded from the means. Error = "
                 f"|o - o_exact| / |o_exact| per head and query. 'keys touched' counts, "
                 f"per head, every key whose K/V row is read: for MagicPIG sink + "
                 f"window + retrieved keys; the baselines get MagicPIG's measured count "
                 f"for the same head and query. 'wins' = share of (layer, head) pairs, "
                 f"error averaged over queries, where MagicPIG's error is below the "
                 f"baseline's.\n")
        default = tuple(data.get("default", {}).get("config", (10, 150)))
        for n, rows in sorted(layers["summary"].items(), key=lambda t: int(t[0])):
            L.append(f"### {n} tokens\n")
            table = []
            for r in rows:
                mark = " (default)" if (r["K"], r["L"]) == default else ""
                table.append([f"{r['K']}, {r['L']}{mark}", _pct(r["frac_magicpig"]),
                              f"{r['err_magicpig']:.3f} / {r['median_err_magicpig']:.3f}",
                              f"{r['err_topk']:.3f} / {r['median_err_topk']:.3f}",
                              f"{r['err_quest']:.3f} / {r['median_err_quest']:.3f}",
                              f"{r['err_oracle']:.3f} ({_pct(r['frac_oracle'])})",
                              _pct(r["wins_topk"]), _pct(r["wins_quest"]),
                              _pct(r["wins_oracle"])])
            L.append(_table(["K, L", "keys touched", "MagicPIG err mean / median",
                             "TopK", "Quest", "oracle sampling (touched)",
                             "wins vs TopK", "wins vs Quest", "wins vs oracle"], table))
            L.append("")
        if studies:
            plot_error_vs_budget(studies, dense, os.path.join(plot_dir, "error_vs_budget.png"))
            L.append(f"![error vs budget]({rel}/error_vs_budget.png)\n")
            L.append("Curves: the baselines on a fixed grid of budgets (measured "
                     "fractions); squares: MagicPIG at each (K, L). Shaded: 3-5%.\n")
            first = next(iter(studies.values()))
            if default in first.configs:
                ci = first.configs.index(default)
                plot_head_ratio(studies, ci, os.path.join(plot_dir, "head_ratio.png"))
                L.append(f"### Per layer at the default (K, L) = {default}\n")
                header = ["layer"]
                for n in sorted(studies):
                    header += [f"{n}: touched", f"{n}: MagicPIG", f"{n}: TopK",
                               f"{n}: Quest", f"{n}: heads MP<TopK"]
                rows = []
                for li, layer in enumerate(first.layers):
                    row = [f"{layer}{' (dense)' if layer in dense else ''}"]
                    for n in sorted(studies):
                        st = studies[n]
                        e = {m: np.nanmean(st.err[m][ci, li], axis=-1)
                             for m in ("magicpig", "topk", "quest")}
                        row += [_pct(np.nanmean(st.frac["magicpig"][ci, li])),
                                f"{e['magicpig'].mean():.3f}", f"{e['topk'].mean():.3f}",
                                f"{e['quest'].mean():.3f}",
                                f"{int((e['magicpig'] < e['topk']).sum())}/{len(e['topk'])}"]
                    rows.append(row)
                L.append(_table(header, rows))
                L.append("")
                L.append(f"![per head ratio]({rel}/head_ratio.png)\n")
                L.append("Per (layer, query head): log2 of MagicPIG's error over TopK's "
                         "at the same measured budget (blue: MagicPIG better).\n")
                L.append(findings(studies, ci, dense))
        L.append("## (K, L) for head dim 64\n")
        plot_sweep(layers["summary"], os.path.join(plot_dir, "kl_sweep.png"))
        L.append(f"![K, L sweep]({rel}/kl_sweep.png)\n")
        L.append(f"Chosen default: **K = {default[0]}, L = {default[1]}** "
                 f"({data.get('default', {}).get('reason', '')}).\n")
        L.append(kl_notes(layers, default, data))

    for key in sorted((k for k in data if k.startswith("compiled@")),
                      key=lambda k: int(k.split("@")[1])):
        L.append(_compiled_section(data[key]))
    L.append(_tail(data, dense))
    with open(out_path, "w") as f:
        f.write("\n".join(L).rstrip() + "\n")


def _compiled_section(comp):
    L = []
    if comp and not comp["rows"]:
        L.append(f"## Compiled MagicPIG path vs the numpy reference, {comp['length']} tokens\n")
        L.append(f"**Not measured: the check failed.** Compiled with `{comp['command']}`; "
                 f"running the compiled layer on the captured caches of layers "
                 f"{comp['layers']} at {comp['length']} tokens failed: "
                 f"{comp['failure']}\n")
    elif comp:
        rows = comp["rows"]
        L.append(f"## Compiled MagicPIG path vs the numpy reference, {comp['length']} tokens\n")
        command = comp["command"].replace(os.path.expanduser("~"), "~")
        L.append(f"One attention layer with SmolLM2's shapes (Hq 9, Hkv 3, d 64, dynamic "
                 f"length) exported by torch-mlir, compiled with `{command}` "
                 f"({comp['compile_seconds']:.1f} s), fed the captured caches of layers "
                 f"{sorted({r['layer'] for r in rows})} at {comp['length']} tokens: the "
                 f"compiled prefill builds the index, the compiled decode answers every "
                 f"captured query.\n")
        by_layer = []
        for layer in sorted({r["layer"] for r in rows}):
            rr = [r for r in rows if r["layer"] == layer]
            by_layer.append([layer, len(rr), f"{np.mean([r['ref_err'] for r in rr]):.6f}",
                             f"{np.mean([r['compiled_err'] for r in rr]):.6f}",
                             f"{max(abs(r['ref_err'] - r['compiled_err']) for r in rr):.1e}",
                             f"{max(r['compiled_vs_ref'] for r in rr):.1e}",
                             f"{sum(r.get('compiled_touched') == r['touched'] for r in rr)}"
                             f"/{len(rr)}"])
        L.append(_table(["layer", "head x query", "reference error (mean)",
                         "compiled error (mean)", "max abs. error difference",
                         "max rel. L2 distance compiled vs reference output",
                         "keys touched equal (compiled retrieve count + sink + window)"],
                        by_layer))
        L.append("")
    return "\n".join(L)


def _tail(data, dense):
    L = []
    rel = data["_rel"]
    plot_dir = data["_plot_dir"]
    ppl = data.get("ppl")
    if ppl and ppl["contexts"]:
        L.append("## Perplexity on held-out text\n")
        L.append(f"Held-out Debian changelogs ({', '.join(ppl.get('sources', []))}); per "
                 f"context {ppl['texts']} text(s) of exactly that many tokens; the last "
                 f"{ppl['tokens']} tokens of each go through decode steps of the method "
                 f"(the rest is the dense prefill). MagicPIG at (K, L) = "
                 f"{tuple(ppl['options'])}; TopK and Quest at MagicPIG's measured "
                 f"fraction on the same text. 'keys touched' is over the sparse layers.\n")
        rows = []
        methods = list(next(iter(ppl["contexts"].values())).keys())
        for n, res in sorted(ppl["contexts"].items(), key=lambda t: int(t[0])):
            base = res.get("dense", {}).get("ppl")
            for m in methods:
                delta = f"{100 * (res[m]['ppl'] / base - 1):+.2f}%" if base else ""
                rows.append([n, NAMES[m], f"{res[m]['ppl']:.3f}", delta,
                             _ppl_interval(res, m), _pct(res[m]["touched"]),
                             res[m]["scored"]])
        L.append(_table(["context", "method", "perplexity", "vs dense",
                         "vs dense, 95% CI", "keys touched", "tokens scored"], rows))
        L.append("")
        L.append("95% CI: paired bootstrap over the scored tokens (every method scores "
                 "the same tokens; magicpig.eval.intervals). Tokens of one text are "
                 "correlated, so the intervals are if anything too narrow.\n")

    nd = data.get("needle")
    if nd and any(nd["contexts"].values()):
        methods = nd["methods"]
        L.append("## Passkey retrieval\n")
        L.append(f"Haystacks: Debian changelogs ({', '.join(nd.get('sources', [])[:12])}"
                 f"{', ...' if len(nd.get('sources', [])) > 12 else ''}); "
                 f"{nd['needles']} pass keys per haystack, each asked as one case; the "
                 f"question and the answer are decoded with the method (greedy, 8 tokens). "
                 f"MagicPIG at (K, L) = {tuple(nd['options'])}; TopK and Quest at "
                 f"MagicPIG's measured fraction on the same case.\n")
        rows = []
        for n, cases in sorted(nd["contexts"].items(), key=lambda t: int(t[0])):
            if not cases:
                continue
            row = [n, len(cases)]
            for m in methods:
                acc = np.mean([c[m]["correct"] for c in cases])
                row.append(f"{100 * acc:.1f}% ({_pct(np.mean([c[m]['touched'] for c in cases]))})")
            row.append(_needle_interval(cases))
            rows.append(row)
        L.append(_table(["context", "cases"] + [f"{NAMES[m]} accuracy (keys touched)"
                                                 for m in methods]
                        + ["MagicPIG - dense, points (95% CI)"], rows))
        L.append("")
        L.append("95% CI: paired bootstrap over the cases (every method answers the "
                 "same cases; magicpig.eval.intervals).\n")
        plot_needle(nd, methods, os.path.join(plot_dir, "needle_accuracy.png"))
        L.append(f"![needle accuracy]({rel}/needle_accuracy.png)\n")

    if data.get("kl"):
        L.append(kl_passkey(data["kl"]))

    L.append(targets(data))
    return "\n".join(L)


def kl_passkey(kl):
    """The kl phase: passkey accuracy of MagicPIG at several (K, L) and of
    dense on the same cases, per context."""
    L = ["### Passkey at other (K, L)\n",
         "The same cases answered by dense and by MagicPIG at each (K, L) (the kl "
         "phase: its own haystacks, so its dense accuracy differs from the table "
         "above).\n"]
    rows = []
    for n, v in sorted(kl.items(), key=lambda t: int(t[0])):
        cases = v["cases"]
        if not cases:
            continue
        dense = [c["dense"]["correct"] for c in cases]
        for k, l in v["configs"]:
            name = f"{k}x{l}"
            got = [c[name]["correct"] for c in cases]
            point, low, high = intervals.accuracy_difference(got, dense)
            rows.append([n, f"{k}, {l}", len(cases),
                         _pct(np.mean([c[name]["touched"] for c in cases])),
                         f"{100 * np.mean(got):.1f}%", f"{100 * np.mean(dense):.1f}%",
                         f"{100 * point:+.1f} ({100 * low:+.1f} .. {100 * high:+.1f})"])
    L.append(_table(["context", "K, L", "cases", "keys touched", "MagicPIG accuracy",
                     "dense accuracy", "MagicPIG - dense, points (95% CI)"], rows))
    L.append("")
    return "\n".join(L)


def _ppl_interval(res, method):
    """'+a% .. +b%' for a method with stored per-token NLLs, else ''."""
    nll, dense = res[method].get("nll"), res.get("dense", {}).get("nll")
    if method == "dense" or not nll or not dense:
        return ""
    _, low, high = intervals.perplexity_ratio(nll, dense)
    return f"{100 * low:+.2f}% .. {100 * high:+.2f}%"


def _ppl_verdict(res):
    """How the interval of MagicPIG's perplexity gap sits against +-2%."""
    nll, dense = res["magicpig"].get("nll"), res["dense"].get("nll")
    if not nll or not dense:
        return ""
    _, low, high = intervals.perplexity_ratio(nll, dense)
    where = ("the whole interval is above +2%" if low > 0.02 else
             "the whole interval is within +-2%" if -0.02 <= low and high <= 0.02 else
             "the interval reaches into +-2%, so this run cannot decide")
    return f"; 95% CI {100 * low:+.2f}% .. {100 * high:+.2f}%: {where}"


def _needle_interval(cases):
    """'d (a .. b)' in points: MagicPIG's accuracy minus dense's."""
    if not cases or "dense" not in cases[0] or "magicpig" not in cases[0]:
        return ""
    point, low, high = intervals.accuracy_difference(
        [c["magicpig"]["correct"] for c in cases], [c["dense"]["correct"] for c in cases])
    return f"{100 * point:+.1f} ({100 * low:+.1f} .. {100 * high:+.1f})"


def run_sizes(data):
    """What was measured, in numbers (not what the defaults would do)."""
    out = ["What these commands measured:\n"]
    lay = data.get("layers")
    if lay:
        out.append(f"- per layer error: contexts {sorted(int(n) for n in lay['summary'])}, "
                   f"{len(lay['layers'])} layers ({', '.join(map(str, lay['layers']))}), "
                   f"{lay['queries']} decode queries per context, all 9 query heads, "
                   f"(K, L) in {[tuple(c) for c in lay['configs']]}, baseline budget grid "
                   f"{lay['fractions']}")
    ppl = data.get("ppl")
    if ppl:
        out.append(f"- perplexity: contexts {sorted(int(n) for n in ppl['contexts'])}, "
                   f"{ppl['texts']} text(s) x {ppl['tokens']} decoded tokens each")
    nd = data.get("needle")
    if nd:
        out.append("- passkey: " + ", ".join(f"{len(c)} cases at {n}" for n, c in
                                               sorted(nd["contexts"].items(),
                                                      key=lambda t: int(t[0]))))
    if data.get("kl"):
        out.append("- passkey at other (K, L): " + ", ".join(
            f"{len(v['cases'])} cases at {n} for {', '.join(f'({k}, {l})' for k, l in v['configs'])}"
            for n, v in sorted(data["kl"].items(), key=lambda t: int(t[0]))))
    out.append("\nThe full evaluation is `python3 -m magicpig.eval` with its defaults "
               "(contexts 2048, 4096, 8192; all 30 layers; 8 queries; 50 passkey cases "
               "and 4 perplexity texts per context); `--help` lists the size options. "
               "Captured caches and results are kept in `--work-dir` (default "
               "~/.cache/magicpig/eval), so phases can be run separately and the needle "
               "phase resumes where it stopped.\n")
    return "\n".join(out)


def kl_notes(layers, default, data):
    out = []
    window = None
    for n, rows in sorted(layers["summary"].items(), key=lambda t: int(t[0])):
        r = {(x["K"], x["L"]): x for x in rows}
        if default in r:
            out.append(f"- {n} tokens: default touches {_pct(r[default]['frac_magicpig'])} "
                       f"of the keys, mean error {r[default]['err_magicpig']:.3f} (TopK at "
                       f"the same budget {r[default]['err_topk']:.3f})")
    out.append("")
    out.append("How to read the sweep: the budget is set by how many keys collide with "
               "the query in >= 2 of L tables, which falls with K and grows with L "
               "(K, L pairs on a diagonal, like 10,150 / 11,300 / 12,450, retrieve "
               "similar counts); at a similar budget, more bits and more tables make "
               "the retrieval probability u a sharper function of the key's angle to "
               "the query, and the tables show the error falling along that diagonal. "
               "The paper's K = 10, L = 150 touches more than 5% here at every length. "
               "The default is chosen by the rule above (lowest error among the "
               "configurations inside the budget range at every length, else the one "
               "closest to the range): it prefers the budget over the error, so a "
               "larger (K, L) on the same budget line as the default (e.g. 12, 450 "
               "against 10, 150) is the better choice when more keys may be touched. "
               "The sink (4) and window (64) tokens are read exactly at every length: "
               "68 / N is 3.3% of a 2K context, 1.7% at 4K and 0.8% at 8K, a floor "
               "under every MagicPIG budget.\n")
    return "\n".join(out)


def targets(data):
    out = ["## Targets\n",
           "The issue's targets at 3-5% of keys touched, checked against the "
           "numbers above:\n"]
    lay = data.get("layers")
    default = tuple(data.get("default", {}).get("config", (10, 150)))
    if lay:
        for n, rows in sorted(lay["summary"].items(), key=lambda t: int(t[0])):
            for r in rows:
                if (r["K"], r["L"]) == default:
                    ok = r["wins_topk"] > 0.5
                    out.append(f"- output error below TopK's on most heads, {n} tokens: "
                               f"**{'met' if ok else 'missed'}**: MagicPIG wins on "
                               f"{_pct(r['wins_topk'])} of (layer, head) pairs at "
                               f"{_pct(r['frac_magicpig'])} keys touched (Quest: "
                               f"{_pct(r['wins_quest'])}, oracle sampling: "
                               f"{_pct(r['wins_oracle'])})")
    ppl = data.get("ppl")
    if ppl:
        for n, res in sorted(ppl["contexts"].items(), key=lambda t: int(t[0])):
            if "dense" in res and "magicpig" in res:
                delta = res["magicpig"]["ppl"] / res["dense"]["ppl"] - 1
                out.append(f"- perplexity within 2% of dense, {n} tokens: "
                           f"**{'met' if abs(delta) <= 0.02 else 'missed'}** "
                           f"({100 * delta:+.2f}% at {_pct(res['magicpig']['touched'])}"
                           + _ppl_verdict(res) + ")")
    nd = data.get("needle")
    if nd:
        have = {int(n): len(c) for n, c in nd["contexts"].items()}
        short = {n: c for n, c in have.items() if c < 50}
        missing = [n for n in (2048, 4096, 8192) if n not in have]
        if short or missing:
            out.append("- at least 50 passkey cases per context length (2K, 4K, 8K): "
                       "**not met by this run**: " + ", ".join(
                           [f"{c} cases at {n}" for n, c in sorted(short.items())]
                           + [f"none at {n}" for n in missing])
                       + " (the run was cut to the time available; the command runs "
                         "50 per context by default and resumes a cut run)")
        for n, cases in sorted(nd["contexts"].items(), key=lambda t: int(t[0])):
            if cases and "dense" in cases[0] and "magicpig" in cases[0]:
                dense = 100 * np.mean([c["dense"]["correct"] for c in cases])
                mp = 100 * np.mean([c["magicpig"]["correct"] for c in cases])
                out.append(f"- passkey accuracy within 2 points of dense, {n} tokens "
                           f"({len(cases)} cases): **{'met' if dense - mp <= 2 else 'missed'}**"
                           f" (dense {dense:.1f}%, MagicPIG {mp:.1f}%; difference "
                           f"{_needle_interval(cases)} points, 95% CI)")
    return "\n".join(out) + "\n"


def findings(studies, ci, dense):
    """Head-level comparisons at the default (K, L), from the per head arrays."""
    out = ["Head-level comparisons at the default (K, L), sparse layers, error "
           "averaged over the queries of each head:\n"]
    oracle_wins, ratio = [], []
    for n, st in sorted(studies.items()):
        keep = _sparse_index(st, dense)
        e = {m: np.nanmean(st.err[m][ci][keep], axis=-1).ravel()
             for m in ("magicpig", "topk", "quest", "oracle")}
        out.append(f"- {n} tokens ({e['topk'].size} heads): MagicPIG below TopK on "
                   f"{_pct(np.mean(e['magicpig'] < e['topk']))}, below oracle sampling on "
                   f"{_pct(np.mean(e['magicpig'] < e['oracle']))}, below Quest on "
                   f"{_pct(np.mean(e['magicpig'] < e['quest']))}; oracle sampling below "
                   f"TopK on {_pct(np.mean(e['oracle'] < e['topk']))}; median ratio "
                   f"MagicPIG / oracle sampling {np.median(e['magicpig'] / e['oracle']):.2f}")
        oracle_wins.append(np.mean(e["oracle"] < e["topk"]))
        ratio.append(np.median(e["magicpig"] / e["oracle"]))
    out.append("")
    if oracle_wins and max(oracle_wins) < 0.5:
        out.append(f"Reading: even ideal sampling (keys drawn from the exact softmax) is "
                   f"below TopK on at most {_pct(max(oracle_wins))} of the heads at these "
                   f"budgets, so on this model's attention the mass TopK drops costs less "
                   f"than the variance of a sample of the same size; MagicPIG's LSH "
                   f"sampling adds a further factor of {min(ratio):.1f}-{max(ratio):.1f} "
                   f"(median) over ideal sampling.\n")
    return "\n".join(out)
