"""The numpy MagicPIG reference against exact attention and brute force."""

import math

import numpy as np
import pytest
import torch

from magicpig import reference as ref
from magicpig.options import MagicPigOptions
from magicpig.projection import simhash_projection

B, HQ, HKV, D = 1, 4, 2, 16
GROUPS = HQ // HKV
SCALE = 1 / math.sqrt(D)


def qkv(n, seed=0, query_len=None):
    rng = np.random.default_rng(seed)
    q_shape = (B, HQ, D) if query_len is None else (B, HQ, query_len, D)
    return (rng.standard_normal(q_shape), rng.standard_normal((B, HKV, n, D)),
            rng.standard_normal((B, HKV, n, D)))


def test_dense_attention_matches_torch_sdpa_with_gqa_and_causal():
    q, k, v = qkv(12, query_len=12)
    want = torch.nn.functional.scaled_dot_product_attention(
        *(torch.from_numpy(x) for x in (q, k, v)), is_causal=True, enable_gqa=True)
    np.testing.assert_allclose(ref.dense_attention(q, k, v, SCALE, causal=True),
                               want.numpy(), atol=1e-12)


def test_causal_mask_is_bottom_right_aligned():
    q, k, v = qkv(10, query_len=3)
    out = ref.dense_attention(q, k, v, SCALE, causal=True)
    # The last query sees every key: the same as decode attention.
    np.testing.assert_allclose(out[:, :, -1], ref.dense_attention(q[:, :, -1], k, v, SCALE))
    # The first query sees keys 0..7 only.
    np.testing.assert_allclose(out[:, :, 0],
                               ref.dense_attention(q[:, :, 0], k[:, :, :8], v[:, :, :8], SCALE))


def test_window_and_merge_split_exact_attention():
    q, k, v = qkv(20)
    # Window over [0, 3) U [12, 20) and the rest [3, 12) as a second part.
    out_w, lse_w = ref.window_attention(q, k, v, 12, 3, SCALE, GROUPS)
    out_m, lse_m = ref.window_attention(q, k[:, :, 3:12], v[:, :, 3:12], 0, 0, SCALE, GROUPS)
    merged, lse = ref.merge(out_w, lse_w, out_m, lse_m)
    np.testing.assert_allclose(merged, ref.dense_attention(q, k, v, SCALE), atol=1e-12)
    scores = SCALE * np.einsum("bhd,bhnd->bhn", q, np.repeat(k, GROUPS, 1))
    np.testing.assert_allclose(lse, np.log(np.exp(scores).sum(-1)), atol=1e-12)


def test_merge_with_empty_sides():
    out = np.ones((1, 2, 3))
    lse = np.array([[0.5, -np.inf]])
    none = np.full((1, 2), -np.inf)
    merged, merged_lse = ref.merge(out, lse, np.zeros((1, 2, 3)), none)
    np.testing.assert_array_equal(merged[0, 0], 1.0)
    np.testing.assert_array_equal(merged[0, 1], 0.0)  # both sides empty
    assert merged_lse[0, 0] == 0.5 and merged_lse[0, 1] == -np.inf


def test_center_keys_and_norms():
    _, k, _ = qkv(10)
    centered, mean = ref.center_keys(k, 2, 3)
    np.testing.assert_allclose(mean, k[:, :, 2:7].mean(2))
    np.testing.assert_allclose(centered[:, :, 2:7].mean(2), 0, atol=1e-12)
    np.testing.assert_allclose(ref.key_norms(centered), np.linalg.norm(centered, axis=-1))
    _, empty_mean = ref.center_keys(k, 5, 5)  # N <= S + W: no middle
    np.testing.assert_array_equal(empty_mean, 0)


def test_simhash_bits():
    projection = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])  # d=2, K=3, L=1
    codes = ref.simhash(np.array([[2.0, 1.0], [0.0, 0.0]]), projection, 3, 1)
    assert codes.tolist() == [[0b101], [0]]  # a zero vector hashes to 0


def test_build_tables_is_a_stable_counting_sort_of_the_middle():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 8, size=(B, HKV, 30, 5))
    offsets, indices = ref.build_tables(codes, 3, 4, 6)
    for g in range(HKV):
        for l in range(5):
            assert offsets[0, g, l, 0] == 0 and offsets[0, g, l, -1] == 20
            for c in range(8):
                bucket = indices[0, g, l, offsets[0, g, l, c]:offsets[0, g, l, c + 1]]
                want = [j for j in range(4, 24) if codes[0, g, j, l] == c]
                assert bucket.tolist() == want
            assert not indices[0, g, l, 20:].any()


def test_retrieve_equals_brute_force_collision_count():
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 4, size=(B, HKV, 40, 6))
    query_codes = rng.integers(0, 4, size=(B, HQ, 6))
    offsets, indices = ref.build_tables(codes, 2, 2, 5)
    for t in (1, 2, 3):
        candidates, counts = ref.retrieve(query_codes, offsets, indices, GROUPS, t)
        for h in range(HQ):
            hits = (codes[0, h // GROUPS] == query_codes[0, h]).sum(-1)
            want = [j for j in range(2, 35) if hits[j] >= t]
            assert candidates[0, h, :counts[0, h]].tolist() == want
    truncated, counts = ref.retrieve(query_codes, offsets, indices, GROUPS, 1, capacity=3)
    assert truncated.shape[-1] == 3 and (counts <= 3).all()


def test_retrieval_probability_closed_form_for_two_collisions():
    p, k, l = np.linspace(0, 1, 11), 3, 7
    pk = p ** k
    want = 1 - (1 - pk) ** l - l * pk * (1 - pk) ** (l - 1)
    np.testing.assert_allclose(ref.retrieval_probability(p, k, l, 2), want, atol=1e-15)
    np.testing.assert_allclose(ref.retrieval_probability(p, k, l, 1), 1 - (1 - pk) ** l)


def test_estimate_empty_and_out_of_range_candidates():
    q, k, v = qkv(8)
    norms = np.ones((B, HKV, 8))
    mean = np.zeros((B, HKV, D))
    candidates = np.array([[[-1, 9, 100], [0, 0, 0], [5, 0, 0], [0, 0, 0]]])
    counts = np.array([[3, 0, 1, 0]])
    out, lse = ref.estimate(q, k, v, norms, mean, candidates, counts, GROUPS, 2, 3, 1, SCALE)
    assert lse[0, 0] == -np.inf and not out[0, 0].any()  # all skipped
    assert lse[0, 1] == -np.inf
    np.testing.assert_allclose(out[0, 2], v[0, 1, 5])  # one key: its value


def options(**kw):
    return MagicPigOptions(**{"lsh_bits": 1, "lsh_tables": 200, "min_collisions": 1,
                              "sink_tokens": 4, "window_tokens": 8, **kw})


def test_complete_sample_gives_exact_attention():
    """K=1, L=200, T=1: every middle key is retrieved and u_j ~ 1, so the
    estimate is exact attention (the weights -log u_j vanish)."""
    o = options()
    q, k, v = qkv(64, seed=3)
    projection = simhash_projection(D, o.lsh_bits, o.lsh_tables, seed=0)
    index = ref.build_index(k[:, :, :60], projection, o)  # 4 generated tokens after
    out, counts = ref.decode_attention(q, k, v, index, projection, o)
    assert (counts == 60 - 4 - 8).all()
    np.testing.assert_allclose(out, ref.dense_attention(q, k, v, SCALE), atol=1e-9)


def test_no_middle_is_exact_window_attention():
    o = options(lsh_bits=8, lsh_tables=4, min_collisions=2)
    q, k, v = qkv(12, seed=4)
    projection = simhash_projection(D, 8, 4, seed=5)
    index = ref.build_index(k, projection, o)  # N = S + W: nothing hashed
    out, counts = ref.decode_attention(q, k, v, index, projection, o)
    assert not counts.any()
    np.testing.assert_allclose(out, ref.dense_attention(q, k, v, SCALE), atol=1e-12)


def test_sampled_estimate_is_close_on_peaked_attention():
    """Realistic K and L on keys where one key dominates: the sample finds it."""
    o = options(lsh_bits=8, lsh_tables=50, min_collisions=2, window_tokens=4)
    q, k, v = qkv(400, seed=6)
    k[0, :, 200] = 12 * q[0, ::GROUPS] / np.linalg.norm(q[0, ::GROUPS], axis=-1, keepdims=True)
    projection = simhash_projection(D, 8, 50, seed=7)
    index = ref.build_index(k, projection, o)
    out, counts = ref.decode_attention(q[:, ::1], k, v, index, projection, o)
    exact = ref.dense_attention(q, k, v, SCALE)
    assert counts.mean() < 0.5 * 392  # it samples, it does not read everything
    for h in range(0, HQ, GROUPS):  # the heads the planted key aligns with
        rel = np.linalg.norm(out[0, h] - exact[0, h]) / np.linalg.norm(exact[0, h])
        assert rel < 0.2
