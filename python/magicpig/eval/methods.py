"""Selection methods on one decode query of one layer, all heads at once.

Shapes: q `[Hq, d]`, k and v `[Hkv, n, d]` (the whole cache the query
sees), GQA group G = Hq / Hkv (query head h reads kv head h // G). Every
method returns (out `[Hq, d]`, touched `[Hq]`): its estimate of the
attention output and the number of keys whose K/V rows it read, which is
the measured budget (not a nominal one):

- `exact`: softmax attention over all n keys (touches n);
- `magicpig`: the numpy reference of the sparsified layer (sink + window
  exact, LSH-sampled middle with importance weights); touches sink +
  window + retrieved keys;
- `topk`: oracle TopK, exact softmax over the b keys of highest score;
- `quest`: Quest (Tang et al. 2024): per page of P keys the element-wise
  min and max of the keys; a page's score bound is
  sum_i max(q_i min_i, q_i max_i) >= q . k for every key of the page; the
  round(b / P) pages of highest bound are attended exactly;
- `oracle_sampling`: keys drawn i.i.d. from the exact softmax until b
  distinct keys were drawn; the output is the mean of the drawn values (the
  unbiased estimator that MagicPIG approximates with LSH).
"""

import math

import numpy as np

from magicpig import reference


def scores(q, k, scale=None):
    """scale * q . k `[Hq, n]` in float64."""
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    group = q.shape[0] // k.shape[0]
    return scale * np.einsum("gjd,ghd->ghj", k, q.reshape(k.shape[0], group, -1)
                             ).reshape(q.shape[0], -1)


def _kv_of_heads(v, hq):
    """`[Hkv, n, d]` -> `[Hq, n, d]` view order (h -> h // G)."""
    return np.repeat(np.asarray(v, dtype=np.float64), hq // v.shape[0], axis=0)


def softmax(s):
    w = np.exp(s - s.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True)


def exact(q, k, v, scale=None):
    s = scores(q, k, scale)
    out = np.einsum("hj,hjd->hd", softmax(s), _kv_of_heads(v, q.shape[0]))
    return out, np.full(q.shape[0], k.shape[1])


def _attend_subset(s_h, v_h, chosen):
    w = softmax(s_h[chosen])
    return w @ v_h[chosen]


def topk(q, k, v, budget, scale=None):
    """budget `[Hq]` keys per head (clipped to 1..n)."""
    s = scores(q, k, scale)
    vh = _kv_of_heads(v, q.shape[0])
    n = s.shape[1]
    out = np.zeros((q.shape[0], v.shape[-1]))
    touched = np.zeros(q.shape[0], dtype=np.int64)
    for h in range(q.shape[0]):
        b = int(min(max(budget[h], 1), n))
        chosen = np.argpartition(-s[h], b - 1)[:b] if b < n else np.arange(n)
        out[h] = _attend_subset(s[h], vh[h], chosen)
        touched[h] = b
    return out, touched


def page_bounds(k, page):
    """(min, max) `[Hkv, pages, d]` over pages of `page` keys (the last one
    may be partial)."""
    k = np.asarray(k, dtype=np.float64)
    hkv, n, d = k.shape
    pages = -(-n // page)
    pad = pages * page - n
    lo = np.concatenate([k, np.full((hkv, pad, d), np.inf)], axis=1)
    hi = np.concatenate([k, np.full((hkv, pad, d), -np.inf)], axis=1)
    return (lo.reshape(hkv, pages, page, d).min(axis=2),
            hi.reshape(hkv, pages, page, d).max(axis=2))


def quest_page_scores(q, lo, hi, scale=None):
    """Upper bounds `[Hq, pages]` of scale * q . k over each page."""
    q = np.asarray(q, dtype=np.float64)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    group = q.shape[0] // lo.shape[0]
    lo_h = np.repeat(lo, group, axis=0)
    hi_h = np.repeat(hi, group, axis=0)
    return scale * np.maximum(q[:, None, :] * lo_h, q[:, None, :] * hi_h).sum(-1)


def quest_pages(budget, n, page):
    """Pages Quest reads for a budget of keys: the nearest whole number of
    pages (at least 1), all of them when the budget is the whole cache."""
    pages = -(-n // page)
    if budget >= n:
        return pages
    return int(min(max(round(budget / page), 1), pages))


def quest(q, k, v, budget, page=16, scale=None):
    s = scores(q, k, scale)
    vh = _kv_of_heads(v, q.shape[0])
    n = s.shape[1]
    lo, hi = page_bounds(k, page)
    bound = quest_page_scores(q, lo, hi, scale)
    pages = bound.shape[1]
    out = np.zeros((q.shape[0], v.shape[-1]))
    touched = np.zeros(q.shape[0], dtype=np.int64)
    for h in range(q.shape[0]):
        m = quest_pages(budget[h], n, page)
        top = np.argpartition(-bound[h], m - 1)[:m] if m < pages else np.arange(pages)
        chosen = (top[:, None] * page + np.arange(page)[None, :]).reshape(-1)
        chosen = chosen[chosen < n]
        out[h] = _attend_subset(s[h], vh[h], chosen)
        touched[h] = chosen.size
    return out, touched


def oracle_sampling(q, k, v, budget, rng, scale=None, max_draw_factor=64):
    """Draws from softmax(s) with replacement until `budget[h]` distinct
    keys (or max_draw_factor * budget draws); mean of the drawn values."""
    s = scores(q, k, scale)
    p = softmax(s)
    vh = _kv_of_heads(v, q.shape[0])
    n = s.shape[1]
    out = np.zeros((q.shape[0], v.shape[-1]))
    touched = np.zeros(q.shape[0], dtype=np.int64)
    for h in range(q.shape[0]):
        b = int(min(max(budget[h], 1), n))
        cdf = np.cumsum(p[h])
        draws = np.minimum(np.searchsorted(cdf, rng.random(max_draw_factor * b) * cdf[-1]),
                           n - 1)
        _, first = np.unique(draws, return_index=True)
        first.sort()
        used = first[b - 1] + 1 if first.size >= b else draws.size
        sample = draws[:used]
        out[h] = vh[h, sample].mean(axis=0)
        touched[h] = np.unique(sample).size
    return out, touched


def magicpig(q, k, v, index, projection, options, scale=None):
    """The reference's sparsified decode attention; index built on the
    first Np keys (`reference.build_index`)."""
    hq, n = q.shape[0], k.shape[1]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    out, counts = reference.decode_attention(q[None], k[None], v[None], index,
                                             projection, options, scale)
    start = reference.window_start(index, options)
    exact_keys = min(options.sink_tokens, n) + max(n - start, 0)
    return out[0], counts[0] + exact_keys


def relative_error(approx, truth):
    """|approx - truth| / |truth| per head."""
    return (np.linalg.norm(approx - truth, axis=-1)
            / np.maximum(np.linalg.norm(truth, axis=-1), 1e-30))
