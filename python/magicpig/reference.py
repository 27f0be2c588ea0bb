"""A numpy reference of MagicPIG, written from the ops' math (MagicPIGOps.td).

One function per op, with the op's shapes (B batch, Hkv kv heads, Hq query
heads, N keys, d head dim, K bits, L tables, T min collisions, S sink tokens,
W window tokens), computed in float64 so that it can judge the compiled f32
code. `build_index` and `decode_attention` chain them exactly as
`--magicpig-sparsify` does (docs/ABI.md). Independent of the C++ on purpose:
it is what the compiled graph is tested against.
"""

import dataclasses
import math

import numpy as np

# The floors of magicpig.estimate: keep the cosine and log(u) finite for
# zero-norm vectors and keys that are almost never retrieved.
COSINE_FLOOR = 1e-30
PROBABILITY_FLOOR = 1e-30


def _offloaded_range(n, sink_tokens, window_tokens):
    """M = [S, N - W), empty when N <= S + W."""
    return sink_tokens, max(n - window_tokens, sink_tokens)


# Prefill-side index build --------------------------------------------------


def center_keys(key, sink_tokens, window_tokens):
    """(key - mean over M, mean) with the mean `[B, Hkv, d]`; zero if M is empty."""
    key = np.asarray(key, dtype=np.float64)
    start, end = _offloaded_range(key.shape[2], sink_tokens, window_tokens)
    if end > start:
        mean = key[:, :, start:end, :].mean(axis=2)
    else:
        mean = np.zeros(key.shape[:2] + key.shape[3:])
    return key - mean[:, :, None, :], mean


def key_norms(key):
    """|k_j| `[B, Hkv, N]`."""
    return np.sqrt((np.asarray(key, dtype=np.float64) ** 2).sum(axis=-1))


def simhash(x, projection, lsh_bits, lsh_tables):
    """codes[..., l] = sum_i [x . P[:, l*K + i] > 0] << i, as int64."""
    dots = np.asarray(x, dtype=np.float64) @ np.asarray(projection, dtype=np.float64)
    bits = (dots > 0).reshape(dots.shape[:-1] + (lsh_tables, lsh_bits))
    weights = np.int64(1) << np.arange(lsh_bits, dtype=np.int64)
    return (bits * weights).sum(axis=-1)


def build_tables(codes, lsh_bits, sink_tokens, window_tokens):
    """CSR bucket tables of the tokens in M: (offsets `[B, Hkv, L, 2^K + 1]`,
    indices `[B, Hkv, L, N]`), indices ascending within a bucket, zero past
    |M|."""
    b, hkv, n, tables = codes.shape
    buckets = 1 << lsh_bits
    start, end = _offloaded_range(n, sink_tokens, window_tokens)
    offsets = np.zeros((b, hkv, tables, buckets + 1), dtype=np.int64)
    indices = np.zeros((b, hkv, tables, n), dtype=np.int64)
    for bi in range(b):
        for g in range(hkv):
            for l in range(tables):
                table_codes = codes[bi, g, start:end, l]
                counts = np.bincount(table_codes, minlength=buckets)
                offsets[bi, g, l, 1:] = np.cumsum(counts)
                order = np.argsort(table_codes, kind="stable")
                indices[bi, g, l, :end - start] = start + order
    return offsets, indices


# Decode ---------------------------------------------------------------------


def collision_hits(query_codes, offsets, indices):
    """hits[j] = number of tables whose bucket of the query holds token j,
    for one (b, h): query_codes `[L]`, offsets `[L, 2^K + 1]`, indices `[L, N]`."""
    tables, n = indices.shape
    starts = offsets[np.arange(tables), query_codes]
    ends = offsets[np.arange(tables), query_codes + 1]
    lengths = ends - starts
    # Positions of all bucket members in the flattened [L * N] indices.
    base = np.arange(tables) * n + starts
    first = np.repeat(base - np.cumsum(lengths) + lengths, lengths)
    members = indices.reshape(-1)[first + np.arange(lengths.sum())]
    return np.bincount(members, minlength=n)


def retrieve(query_codes, offsets, indices, group_size, min_collisions, capacity=None):
    """(candidates `[B, Hq, C]`, counts `[B, Hq]`): tokens sharing a bucket
    with the query in >= T tables, ascending, truncated to C (default N).
    Entries past counts are -1."""
    b, hq, _ = query_codes.shape
    n = indices.shape[-1]
    capacity = n if capacity is None else capacity
    candidates = np.full((b, hq, capacity), -1, dtype=np.int64)
    counts = np.zeros((b, hq), dtype=np.int64)
    for bi in range(b):
        for h in range(hq):
            g = h // group_size
            hits = collision_hits(query_codes[bi, h], offsets[bi, g], indices[bi, g])
            found = np.flatnonzero(hits >= min_collisions)[:capacity]
            candidates[bi, h, :found.size] = found
            counts[bi, h] = found.size
    return candidates, counts


def retrieval_probability(p, lsh_bits, lsh_tables, min_collisions):
    """u = 1 - sum_{t < T} binom(L, t) p^(K t) (1 - p^K)^(L - t): the chance
    that a key whose per-bit agreement is p collides in >= T of L tables."""
    pk = np.asarray(p, dtype=np.float64) ** lsh_bits
    miss = np.zeros_like(pk)
    for t in range(min_collisions):
        miss += math.comb(lsh_tables, t) * pk ** t * (1.0 - pk) ** (lsh_tables - t)
    return 1.0 - miss


def _softmax_with_lse(scores, values):
    """(sum softmax(s)_j v_j, logsumexp(s)); (0, -inf) for no scores."""
    if scores.size == 0:
        return np.zeros(values.shape[-1]), -np.inf
    top = scores.max()
    weights = np.exp(scores - top)
    total = weights.sum()
    return (weights / total) @ values, top + np.log(total)


def estimate(query, key, value, norms, mean, candidates, counts, group_size,
             lsh_bits, lsh_tables, min_collisions, scale):
    """Importance-weighted attention over the retrieved keys: (out
    `[B, Hq, dv]`, lse `[B, Hq]`). The cosine is against the centered key
    (what SimHash saw), the score uses the raw key."""
    query = np.asarray(query, dtype=np.float64)
    key = np.asarray(key, dtype=np.float64)
    value = np.asarray(value, dtype=np.float64)
    b, hq, _ = query.shape
    n, n_norms = key.shape[2], norms.shape[2]
    out = np.zeros((b, hq, value.shape[-1]))
    lse = np.full((b, hq), -np.inf)
    for bi in range(b):
        for h in range(hq):
            g = h // group_size
            count = min(int(counts[bi, h]), candidates.shape[-1])
            chosen = candidates[bi, h, :count]
            chosen = chosen[(chosen >= 0) & (chosen < n) & (chosen < n_norms)]
            q = query[bi, h]
            dots = key[bi, g, chosen] @ q
            cos = (dots - q @ mean[bi, g]) / np.maximum(
                np.linalg.norm(q) * norms[bi, g, chosen], COSINE_FLOOR)
            p = 1.0 - np.arccos(np.clip(cos, -1.0, 1.0)) / np.pi
            u = retrieval_probability(p, lsh_bits, lsh_tables, min_collisions)
            scores = scale * dots - np.log(np.maximum(u, PROBABILITY_FLOOR))
            out[bi, h], lse[bi, h] = _softmax_with_lse(scores, value[bi, g, chosen])
    return out, lse


def window_attention(query, key, value, window_start, sink_tokens, scale, group_size):
    """Exact attention over [0, min(S, N)) U [max(window_start, S), N):
    (out `[B, Hq, dv]`, lse `[B, Hq]`)."""
    query = np.asarray(query, dtype=np.float64)
    key = np.asarray(key, dtype=np.float64)
    value = np.asarray(value, dtype=np.float64)
    n = key.shape[2]
    positions = np.concatenate([np.arange(min(sink_tokens, n)),
                                np.arange(max(window_start, sink_tokens), n)])
    b, hq, _ = query.shape
    out = np.zeros((b, hq, value.shape[-1]))
    lse = np.full((b, hq), -np.inf)
    for bi in range(b):
        for h in range(hq):
            g = h // group_size
            scores = scale * (key[bi, g, positions] @ query[bi, h])
            out[bi, h], lse[bi, h] = _softmax_with_lse(scores, value[bi, g, positions])
    return out, lse


def merge(out_a, lse_a, out_b, lse_b):
    """lse = logaddexp(lse_a, lse_b), out = exp(lse_a - lse) out_a +
    exp(lse_b - lse) out_b; a side at -inf adds nothing, both -inf give 0."""
    lse = np.logaddexp(lse_a, lse_b)
    finite = np.isfinite(lse)
    safe = np.where(finite, lse, 0.0)
    weight_a = np.where(finite, np.exp(lse_a - safe), 0.0)
    weight_b = np.where(finite, np.exp(lse_b - safe), 0.0)
    return weight_a[..., None] * out_a + weight_b[..., None] * out_b, lse


def dense_attention(query, key, value, scale, causal=False):
    """magicpig.attention: exact softmax attention with GQA; query
    `[B, Hq, d]` or `[B, Hq, S, d]`, causal = bottom-right aligned."""
    query = np.asarray(query, dtype=np.float64)
    rank3 = query.ndim == 3
    if rank3:
        query = query[:, :, None, :]
    groups = query.shape[1] // key.shape[1]
    key = np.repeat(np.asarray(key, dtype=np.float64), groups, axis=1)
    value = np.repeat(np.asarray(value, dtype=np.float64), groups, axis=1)
    scores = scale * query @ key.swapaxes(-1, -2)
    if causal:
        s, n = scores.shape[-2:]
        hidden = np.arange(n)[None, :] > n - s + np.arange(s)[:, None]
        scores = np.where(hidden, -np.inf, scores)
    scores = scores - scores.max(axis=-1, keepdims=True)
    probs = np.exp(scores)
    out = (probs / probs.sum(axis=-1, keepdims=True)) @ value
    return out[:, :, 0, :] if rank3 else out


# The sparsified layer, as --magicpig-sparsify composes the ops --------------


@dataclasses.dataclass
class LayerIndex:
    """The four buffers one sparse layer carries from prefill to decode."""
    offsets: np.ndarray   # [B, Hkv, L, 2^K + 1]
    indices: np.ndarray   # [B, Hkv, L, Np]
    norms: np.ndarray     # [B, Hkv, Np], |k_j - mean|
    mean: np.ndarray      # [B, Hkv, d]

    @property
    def prefill_length(self):
        return self.indices.shape[-1]


def build_index(key, projection, options):
    """center_keys -> key_norms -> simhash -> build_tables on the prefill
    keys `[B, Hkv, Np, d]`."""
    o = options
    centered, mean = center_keys(key, o.sink_tokens, o.window_tokens)
    codes = simhash(centered, projection, o.lsh_bits, o.lsh_tables)
    offsets, indices = build_tables(codes, o.lsh_bits, o.sink_tokens, o.window_tokens)
    return LayerIndex(offsets, indices, key_norms(centered), mean)


def window_start(index, options):
    """First token after the hashed middle: max(Np - W, S)."""
    return max(index.prefill_length - options.window_tokens, options.sink_tokens)


def decode_attention(query, key, value, index, projection, options, scale=None):
    """Sampled decode attention of one layer: (out `[B, Hq, dv]`, counts
    `[B, Hq]` of retrieved keys). key and value are the whole cache
    `[B, Hkv, N, d]` (N >= Np: prefill plus generated tokens)."""
    o = options
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    groups = query.shape[1] // key.shape[1]
    codes = simhash(query, projection, o.lsh_bits, o.lsh_tables)
    candidates, counts = retrieve(codes, index.offsets, index.indices, groups,
                                  o.min_collisions)
    out_s, lse_s = estimate(query, key, value, index.norms, index.mean, candidates,
                            counts, groups, o.lsh_bits, o.lsh_tables,
                            o.min_collisions, scale)
    out_w, lse_w = window_attention(query, key, value, window_start(index, o),
                                    o.sink_tokens, scale, groups)
    out, _ = merge(out_s, lse_s, out_w, lse_w)
    return out, counts
