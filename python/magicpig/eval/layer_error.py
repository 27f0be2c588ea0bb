"""Per layer and head: relative L2 error of each method at matched budgets.

For every context length, layer and MagicPIG configuration (K, L), the
index is built on the captured prefill cache (Np keys) and every captured
decode query is answered by MagicPIG; the keys it touched per head (sink +
window + retrieved, measured) set the budget that oracle TopK, Quest and
oracle sampling get for that same head and query. Their own touched counts
are measured too (Quest rounds to whole pages, oracle sampling may stop
short when the softmax is too peaked to yield b distinct keys). Besides,
TopK / Quest / oracle sampling run on a fixed grid of budget fractions (the
error-vs-budget curves).

Results are arrays indexed [config, layer, head, query] (grid:
[fraction, layer, head, query]).
"""

import dataclasses
import time

import numpy as np

from magicpig import reference
from magicpig.cli import progress
from magicpig.eval import methods
from magicpig.projection import simhash_projection

BASELINES = ("topk", "quest", "oracle")


def _empty(*shape):
    return np.full(shape, np.nan)


@dataclasses.dataclass
class LayerStudy:
    length: int
    configs: list          # [(K, L)]
    layers: list
    fractions: list        # budget grid
    err: dict              # method -> [C, layers, Hq, nq]
    frac: dict             # method -> [C, layers, Hq, nq]
    grid_err: dict         # baseline -> [F, layers, Hq, nq]
    grid_frac: dict

    def to_arrays(self, prefix):
        out = {f"{prefix}configs": np.array(self.configs),
               f"{prefix}layers": np.array(self.layers),
               f"{prefix}fractions": np.array(self.fractions),
               f"{prefix}length": np.array(self.length)}
        for kind, table in (("err", self.err), ("frac", self.frac),
                            ("grid_err", self.grid_err), ("grid_frac", self.grid_frac)):
            for name, arr in table.items():
                out[f"{prefix}{kind}_{name}"] = arr
        return out

    @classmethod
    def from_arrays(cls, arrays, prefix):
        def table(kind):
            key = f"{prefix}{kind}_"
            return {k[len(key):]: v for k, v in arrays.items() if k.startswith(key)}
        return cls(int(arrays[f"{prefix}length"]),
                   [tuple(int(x) for x in c) for c in arrays[f"{prefix}configs"]],
                   [int(x) for x in arrays[f"{prefix}layers"]],
                   [float(x) for x in arrays[f"{prefix}fractions"]],
                   table("err"), table("frac"), table("grid_err"), table("grid_frac"))


def run(capture, configs, layers, base_options, fractions, seed=0, page=16):
    """The study on one captured cache."""
    hq = capture.queries.shape[1]
    nq = capture.queries.shape[2]
    np_len = capture.prefill_length
    shape = (len(configs), len(layers), hq, nq)
    err = {m: _empty(*shape) for m in ("magicpig",) + BASELINES}
    frac = {m: _empty(*shape) for m in ("magicpig",) + BASELINES}
    gshape = (len(fractions), len(layers), hq, nq)
    grid_err = {m: _empty(*gshape) for m in BASELINES}
    grid_frac = {m: _empty(*gshape) for m in BASELINES}
    rng = np.random.default_rng(seed)
    d = capture.keys.shape[-1]
    projections = {c: simhash_projection(d, c[0], c[1], base_options.seed) for c in configs}
    start = time.perf_counter()
    for li, layer in enumerate(layers):
        truths = []
        for i in range(nq):
            q, k, v = capture.decode_view(layer, i)
            truths.append(methods.exact(q, k, v)[0])
            n = k.shape[1]
            for fi, f in enumerate(fractions):
                budget = np.full(hq, max(int(round(f * n)), 1))
                for name, fn in (("topk", lambda b: methods.topk(q, k, v, b)),
                                 ("quest", lambda b: methods.quest(q, k, v, b, page)),
                                 ("oracle", lambda b: methods.oracle_sampling(q, k, v, b, rng))):
                    out, touched = fn(budget)
                    grid_err[name][fi, li, :, i] = methods.relative_error(out, truths[i])
                    grid_frac[name][fi, li, :, i] = touched / n
        for ci, config in enumerate(configs):
            options = dataclasses.replace(base_options, lsh_bits=config[0],
                                          lsh_tables=config[1])
            index = reference.build_index(capture.keys[layer][None, :, :np_len],
                                          projections[config], options)
            for i in range(nq):
                q, k, v = capture.decode_view(layer, i)
                n = k.shape[1]
                out, touched = methods.magicpig(q, k, v, index, projections[config], options)
                err["magicpig"][ci, li, :, i] = methods.relative_error(out, truths[i])
                frac["magicpig"][ci, li, :, i] = touched / n
                for name, fn in (("topk", lambda b: methods.topk(q, k, v, b)),
                                 ("quest", lambda b: methods.quest(q, k, v, b, page)),
                                 ("oracle", lambda b: methods.oracle_sampling(q, k, v, b, rng))):
                    out, got = fn(touched)
                    err[name][ci, li, :, i] = methods.relative_error(out, truths[i])
                    frac[name][ci, li, :, i] = got / n
        progress(f"  {capture.length} tokens: layer {layer} done "
                 f"({time.perf_counter() - start:.0f} s)")
    return LayerStudy(capture.length, list(configs), list(layers), list(fractions),
                      err, frac, grid_err, grid_frac)


def summarize(study, sparse_layers=None):
    """Per config: mean measured fractions and errors over (sparse) layers,
    heads and queries, and the share of heads (error averaged over queries)
    where MagicPIG beats each baseline."""
    keep = [i for i, l in enumerate(study.layers)
            if sparse_layers is None or l in sparse_layers]
    rows = []
    for ci, config in enumerate(study.configs):
        row = {"K": config[0], "L": config[1]}
        head_mp = np.nanmean(study.err["magicpig"][ci, keep], axis=-1)
        for m in ("magicpig",) + BASELINES:
            row[f"frac_{m}"] = float(np.nanmean(study.frac[m][ci, keep]))
            row[f"err_{m}"] = float(np.nanmean(study.err[m][ci, keep]))
            row[f"median_err_{m}"] = float(np.nanmedian(study.err[m][ci, keep]))
            if m != "magicpig":
                head_m = np.nanmean(study.err[m][ci, keep], axis=-1)
                row[f"wins_{m}"] = float(np.mean(head_mp < head_m))
        rows.append(row)
    return rows


def choose_default(rows_by_length, low=0.03, high=0.05):
    """The (K, L) with the lowest mean MagicPIG error among those whose
    measured fraction is within [low, high] at every context length (or,
    when none is, the one closest to the range); returns (config, reason)."""
    configs = [(r["K"], r["L"]) for r in next(iter(rows_by_length.values()))]

    def stats(ci):
        fr = [rows[ci]["frac_magicpig"] for rows in rows_by_length.values()]
        er = [rows[ci]["err_magicpig"] for rows in rows_by_length.values()]
        return fr, float(np.mean(er))

    inside = [ci for ci in range(len(configs))
              if all(low <= f <= high for f in stats(ci)[0])]
    if inside:
        best = min(inside, key=lambda ci: stats(ci)[1])
        return configs[best], (f"lowest mean error ({stats(best)[1]:.3f}) among the "
                               f"{len(inside)} configurations whose measured budget is "
                               f"within {100 * low:.0f}-{100 * high:.0f}% at every "
                               f"context length")

    def distance(ci):
        return sum(max(low - f, 0) + max(f - high, 0) for f in stats(ci)[0])
    best = min(range(len(configs)), key=lambda ci: (distance(ci), stats(ci)[1]))
    return configs[best], (f"no configuration's measured budget is within "
                           f"{100 * low:.0f}-{100 * high:.0f}% at every context length; "
                           f"closest to that range")
