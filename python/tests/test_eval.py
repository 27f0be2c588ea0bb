"""Fast checks of magicpig.eval on synthetic caches and a tiny random Llama:
each method against brute force, the budget accounting, the capture and
decode shortcuts against the model's own code, the needle cases, the
default choice and the report. Seconds, no real model."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from magicpig import reference
from magicpig.eval import capture, decode_methods, endtoend, layer_error, methods, needle
from magicpig.options import MagicPigOptions
from magicpig.projection import simhash_projection

HQ, HKV, N, D = 4, 2, 300, 16


def synthetic(seed=0, n=N, d=D, hq=HQ, hkv=HKV):
    """Keys with a shared offset, a low-rank part and noise (like real
    caches), queries with a few aligned keys (heavy hitters)."""
    rng = np.random.default_rng(seed)
    offset = 2 * rng.standard_normal((hkv, 1, d))
    basis = rng.standard_normal((hkv, 3, d))
    k = offset + np.einsum("gnr,grd->gnd", rng.standard_normal((hkv, n, 3)), basis) \
        + 0.3 * rng.standard_normal((hkv, n, d))
    v = rng.standard_normal((hkv, n, d)) + rng.standard_normal((hkv, 1, d))
    q = rng.standard_normal((hq, d))
    for h in range(hq):
        k[h // (hq // hkv), 20 + 37 * h] = offset[h // (hq // hkv), 0] + 2.5 * q[h]
    return q, k, v


def brute_attention(q, k, v, keep):
    """Softmax over the keys `keep[h]` (a list of indices) per head."""
    group = q.shape[0] // k.shape[0]
    out = []
    for h in range(q.shape[0]):
        g = h // group
        s = np.array([q[h] @ k[g, j] / math.sqrt(q.shape[1]) for j in keep[h]])
        w = np.exp(s - s.max())
        out.append((w / w.sum()) @ v[g, list(keep[h])])
    return np.array(out)


def test_exact_matches_brute_force():
    q, k, v = synthetic()
    out, touched = methods.exact(q, k, v)
    assert np.allclose(out, brute_attention(q, k, v, [range(N)] * HQ), atol=1e-10)
    assert list(touched) == [N] * HQ


def test_topk_picks_the_top_scores():
    q, k, v = synthetic(1)
    budget = np.array([1, 7, 30, N])
    out, touched = methods.topk(q, k, v, budget)
    assert list(touched) == list(budget)
    s = methods.scores(q, k)
    keep = [np.argsort(-s[h])[:budget[h]] for h in range(HQ)]
    assert np.allclose(out, brute_attention(q, k, v, keep), atol=1e-10)
    # and a wrong selection would be told apart
    wrong = [np.argsort(s[h])[:budget[h]] for h in range(HQ)]
    assert not np.allclose(out[:3], brute_attention(q, k, v, wrong)[:3], atol=1e-3)


@pytest.mark.parametrize("page", [1, 7, 16])
def test_quest_bounds_upper_bound_every_score(page):
    q, k, v = synthetic(2)
    q = q * np.array([1, -1] * (D // 2))  # mixed signs per dimension
    lo, hi = methods.page_bounds(k, page)
    bound = methods.quest_page_scores(q, lo, hi)
    s = methods.scores(q, k)
    for h in range(HQ):
        for p in range(bound.shape[1]):
            assert bound[h, p] >= s[h, p * page:(p + 1) * page].max() - 1e-9
    if page == 1:  # one key per page: the bound is the score itself
        assert np.allclose(bound, s)


def test_quest_attends_the_pages_of_highest_bound():
    q, k, v = synthetic(3)
    page = 16
    out, touched = methods.quest(q, k, v, np.full(HQ, 48), page)
    lo, hi = methods.page_bounds(k, page)
    bound = methods.quest_page_scores(q, lo, hi)
    keep = []
    for h in range(HQ):
        pages = np.argsort(-bound[h])[:3]
        keep.append([j for p in pages for j in range(p * page, min((p + 1) * page, N))])
    assert np.allclose(out, brute_attention(q, k, v, keep), atol=1e-10)
    assert list(touched) == [len(x) for x in keep]
    full, touched = methods.quest(q, k, v, np.full(HQ, N), page)
    assert np.allclose(full, methods.exact(q, k, v)[0]) and list(touched) == [N] * HQ


def test_oracle_sampling_touches_the_budget_and_is_unbiased():
    q, k, v = synthetic(4)
    rng = np.random.default_rng(0)
    flat = q * 0.01  # near-uniform softmax: b distinct keys are reachable
    out, touched = methods.oracle_sampling(flat, k, v, np.full(HQ, 40), rng)
    assert list(touched) == [40] * HQ
    # the mean of many estimates approaches exact attention
    truth = methods.exact(q, k, v)[0]
    mean = np.mean([methods.oracle_sampling(q, k, v, np.full(HQ, 60), rng)[0]
                    for _ in range(200)], axis=0)
    single = methods.oracle_sampling(q, k, v, np.full(HQ, 60), rng)[0]
    assert methods.relative_error(mean, truth).max() < \
        0.5 * methods.relative_error(single, truth).max() + 1e-3


def _index(k, options, np_len):
    projection = simhash_projection(D, options.lsh_bits, options.lsh_tables, options.seed)
    return reference.build_index(k[None, :, :np_len], projection, options), projection


def test_magicpig_with_a_complete_sample_is_exact():
    """K = 1, T = 1, L = 64: every key is retrieved with u = 1 in float64."""
    q, k, v = synthetic(5)
    options = MagicPigOptions(lsh_bits=1, lsh_tables=64, min_collisions=1,
                              sink_tokens=4, window_tokens=16)
    index, projection = _index(k, options, N - 1)
    out, touched = methods.magicpig(q, k, v, index, projection, options)
    truth = methods.exact(q, k, v)[0]
    assert methods.relative_error(out, truth).max() < 1e-6
    assert list(touched) == [N] * HQ  # every key counted once


def test_magicpig_budget_counts_sink_window_and_retrieved():
    q, k, v = synthetic(6)
    options = MagicPigOptions(lsh_bits=6, lsh_tables=20, sink_tokens=4, window_tokens=16)
    np_len = N - 3
    index, projection = _index(k, options, np_len)
    out, touched = methods.magicpig(q, k, v, index, projection, options)
    codes = reference.simhash(q[None], projection, 6, 20)
    _, counts = reference.retrieve(codes, index.offsets, index.indices, HQ // HKV, 2)
    exact_keys = 4 + (N - (np_len - 16))
    assert list(touched) == list(counts[0] + exact_keys)
    assert (touched < N).all()


def test_relative_error():
    a = np.array([[3.0, 4.0]])
    assert methods.relative_error(a * 1.1, a)[0] == pytest.approx(0.1)


def _fake_capture(seed=0, layers=2, n=N, nq=3):
    q, k, v = synthetic(seed, n)
    rng = np.random.default_rng(seed)
    keys = np.stack([k + 0.1 * rng.standard_normal(k.shape) for _ in range(layers)])
    values = np.stack([v for _ in range(layers)])
    queries = np.stack([np.stack([q + 0.1 * i for i in range(nq)], axis=1)] * layers)
    return capture.Capture(keys.astype(np.float32), values.astype(np.float32),
                           queries.astype(np.float32), np.zeros(8, np.float32))


def test_layer_study_matches_budgets_per_head_and_query():
    cap = _fake_capture()
    options = MagicPigOptions(sink_tokens=4, window_tokens=16)
    study = layer_error.run(cap, [(6, 20), (8, 40)], [0, 1], options, [0.05, 0.2])
    assert study.err["magicpig"].shape == (2, 2, HQ, 3)
    assert np.array_equal(study.frac["topk"], study.frac["magicpig"])
    # Quest rounds to whole pages: within half a page (plus the partial last page)
    assert (np.abs(study.frac["quest"] - study.frac["magicpig"]) * N <= 16).all()
    assert (study.frac["oracle"] <= study.frac["magicpig"] + 1e-12).all()
    assert np.allclose(study.grid_frac["topk"][0], round(0.05 * (N - 2)) / (N - 2), atol=0.01)
    assert np.isfinite(study.err["magicpig"]).all()
    again = layer_error.LayerStudy.from_arrays(study.to_arrays("x"), "x")
    assert again.configs == study.configs
    assert np.array_equal(again.err["quest"], study.err["quest"])
    rows = layer_error.summarize(study, {1})
    assert rows[0]["frac_topk"] == pytest.approx(rows[0]["frac_magicpig"])


def test_choose_default_prefers_in_range_then_lowest_error():
    rows = {"2048": [{"K": 9, "L": 75, "frac_magicpig": 0.08, "err_magicpig": 0.1},
                     {"K": 10, "L": 150, "frac_magicpig": 0.045, "err_magicpig": 0.3},
                     {"K": 11, "L": 300, "frac_magicpig": 0.04, "err_magicpig": 0.2}]}
    assert layer_error.choose_default(rows)[0] == (11, 300)
    rows["2048"][2]["frac_magicpig"] = 0.02
    assert layer_error.choose_default(rows)[0] == (10, 150)
    rows["2048"][1]["frac_magicpig"] = 0.06
    config, reason = layer_error.choose_default(rows)
    assert config == (10, 150) and "closest" in reason


@pytest.fixture(scope="module")
def tiny_model():
    from magicpig.config import tiny_config
    from magicpig.llama import Llama, init_random

    return init_random(Llama(tiny_config(num_layers=3)), seed=1).eval()


def test_capture_prefill_matches_the_model(tiny_model):
    ids = list(range(3, 43))
    cap, all_logits = capture.prefill(tiny_model, ids, queries=5, all_logits=True)
    with torch.no_grad():
        logits, k, v = tiny_model.prefill(torch.tensor([ids]))
        full = tiny_model(torch.tensor([ids]))[0]
    assert np.allclose(cap.keys, k[:, 0].numpy(), atol=1e-5)
    assert np.allclose(cap.values, v[:, 0].numpy(), atol=1e-5)
    assert np.allclose(cap.logits, logits[0].numpy(), atol=1e-4)
    assert np.allclose(all_logits, full.numpy(), atol=1e-4)
    assert cap.queries.shape == (3, 4, 5, 16) and cap.prefill_length == 35
    q, kk, _ = cap.decode_view(1, 2)
    assert kk.shape[1] == 38
    # the captured query of the last position is what decode would issue
    with torch.no_grad():
        seen = {}

        def spy(layer, q_, k_, v_):
            seen[layer] = q_[0, :, 0].numpy()
            from magicpig.llama import dense_attention
            return dense_attention(q_, k_, v_, tiny_model.config.group_size)
        tiny_model.decode(torch.tensor([[ids[-1]]]), len(ids) - 1, k[:, :, :, :-1],
                          v[:, :, :, :-1], attention=spy)
    assert np.allclose(cap.queries[1, :, -1], seen[1], atol=1e-5)


def test_decode_step_matches_llama_decode(tiny_model):
    ids = list(range(5, 30))
    cap = capture.prefill(tiny_model, ids)
    k, v = capture.to_torch_cache(cap)
    with torch.no_grad():
        want, _, _ = tiny_model.decode(torch.tensor([[7]]), len(ids), k, v)
    shape = (3, 1, 2, len(ids) + 1, 16)
    kbuf, vbuf = torch.zeros(shape), torch.zeros(shape)
    kbuf[:, :, :, :-1], vbuf[:, :, :, :-1] = k, v
    got = endtoend.decode_step(tiny_model, 7, kbuf, vbuf, len(ids))
    assert torch.allclose(got, want[0], atol=1e-5)


def test_budget_attention_topk_and_quest(tiny_model):
    torch.manual_seed(0)
    q = torch.randn(1, 4, 1, 16)
    k, v = torch.randn(1, 2, 100, 16), torch.randn(1, 2, 100, 16)
    dense = decode_methods.gqa_attention(q, k, v)
    for kind in ("topk", "quest"):
        full = decode_methods.BudgetAttention(kind, 1.0, [], 2)
        assert torch.allclose(full(1, q, k, v), dense, atol=1e-5)
        assert full.stats.sparse_fraction() == 1.0
    topk = decode_methods.BudgetAttention("topk", 0.1, [], 2)
    out = topk(1, q, k, v)
    assert topk.stats.sparse_fraction() == pytest.approx(0.1)
    want, _ = methods.topk(q[0, :, 0].numpy(), k[0].numpy(), v[0].numpy(), np.full(4, 10))
    assert np.allclose(out[0, :, 0].numpy(), want, atol=1e-5)
    quest = decode_methods.BudgetAttention("quest", 0.32, [], 2)
    out = quest(1, q, k, v)
    want, touched = methods.quest(q[0, :, 0].numpy(), k[0].numpy(), v[0].numpy(),
                                  np.full(4, 32), 16)
    assert np.allclose(out[0, :, 0].numpy(), want, atol=1e-5)
    assert quest.stats.sparse_touched == touched.sum()
    dense_layer = decode_methods.BudgetAttention("topk", 0.1, [0], 2)
    assert torch.allclose(dense_layer(0, q, k, v), dense, atol=1e-6)


def test_run_methods_matches_budgets(tiny_model):
    ids = list(range(3, 203))
    cap = capture.prefill(tiny_model, ids)
    options = MagicPigOptions(lsh_bits=4, lsh_tables=10, sink_tokens=4, window_tokens=8,
                              dense_layers=(0,))
    res = endtoend.run_methods(tiny_model, cap, [5, 6, 7], 3, options)
    assert res["dense"].touched == 1.0 and len(res["dense"].nll) == 2
    assert len(res["dense"].generated) == 3
    f = res["magicpig"].touched
    assert 0 < f < 1
    assert res["topk"].touched == pytest.approx(f, abs=2 / 200)
    assert res["quest"].touched == pytest.approx(f, abs=16 / 200)


class CharTokenizer:
    def encode(self, text):
        return [ord(c) for c in text]

    def decode(self, ids, skip_special_tokens=False):
        return "".join(chr(i) for i in ids)


def test_needle_haystack_holds_every_key_and_fits():
    tok = CharTokenizer()
    hay = tok.encode("".join(f"line {i} of some changelog text\n" for i in range(400)))
    stacks = needle.make_haystacks(tok, [hay, hay], 2000, 4, seed=3)
    for h in stacks:
        text = tok.decode(h.prompt)
        assert len(h.prompt) + max(map(len, h.questions)) + needle.ANSWER_TOKENS <= 2000
        for name, key in zip(needle.NAMES, h.keys):
            assert f"The pass key of the {name} is {key}." in text
            assert len(key) == 5
        assert all(0 < d < 1 for d in h.depths)
    assert stacks[0].keys != stacks[1].keys
    assert needle.answer_of(tok, tok.encode(" 12345. Rem")) == "12345"
    assert needle.answer_of(tok, tok.encode(" none")) == ""


def test_cli_rejects_bad_options(capsys):
    from magicpig.cli import run_main
    from magicpig.eval.__main__ import main

    with pytest.raises(SystemExit) as e:
        main(["--configs", "10y150"])
    assert e.value.code == 2
    assert run_main(main, ["--configs", "17x10", "--phases", "report"]) == 2
    assert "--lsh-bits must be in 1..16" in capsys.readouterr().err
    assert run_main(main, ["--methods", "dense,foo", "--phases", "report"]) == 2


def test_report_from_stored_results(tmp_path):
    """The report phase writes the page and its plots from a stored study,
    with the targets judged from the numbers."""
    pytest.importorskip("matplotlib")
    from magicpig.eval import report

    cap = _fake_capture()
    options = MagicPigOptions(sink_tokens=4, window_tokens=16)
    study = layer_error.run(cap, [(6, 20)], [0, 1], options, [0.05])
    np.savez(tmp_path / "layers_300.npz", **study.to_arrays(""))
    summary = {"300": layer_error.summarize(study, {1})}
    case = {"haystack": 0, "needle": 0, "key": "12345", "depth": 0.5,
            "dense": {"answer": "12345", "correct": True, "touched": 1.0},
            "magicpig": {"answer": "1234", "correct": False, "touched": 0.04}}
    data = {"default": {"config": [6, 20], "reason": "test"},
            "layers": {"files": {"300": "layers_300.npz"}, "summary": summary,
                       "sources": ["GPL-3"], "queries": 3, "layers": [0, 1],
                       "dense_layers": [0], "configs": [[6, 20]], "fractions": [0.05],
                       "eval_command": "python3 -m magicpig.eval --test"},
            "needle@300": {"settings": [6, 20, 1, 0, ["dense", "magicpig"]],
                           "options": [6, 20], "needles": 1, "methods": ["dense", "magicpig"],
                           "sources": [], "cases": [case], "eval_command": "x"}}
    out = tmp_path / "accuracy.md"
    report.write(data, str(tmp_path), str(out), str(tmp_path / "plots"))
    text = out.read_text()
    assert "python3 -m magicpig.eval --test" in text
    assert "passkey accuracy within 2 points of dense, 300 tokens (1 cases): **missed**" in text
    # One case, MagicPIG wrong and dense right: every resample says -100.
    assert "difference -100.0 (-100.0 .. -100.0) points, 95% CI" in text
    assert "1 cases at 300" in text
    for png in ("error_vs_budget", "head_ratio", "kl_sweep", "needle_accuracy"):
        assert (tmp_path / "plots" / f"{png}.png").stat().st_size > 1000


def test_paired_intervals_cover_the_truth_and_shrink_with_more_items():
    """On synthetic pairs with a known gap, the 95% interval holds the true
    value and narrows as the sample grows; identical methods give 0."""
    from magicpig.eval import intervals

    rng = np.random.default_rng(1)
    widths = []
    for n in (100, 1600):
        dense = rng.normal(2.0, 1.0, n)
        method = dense + rng.normal(0.05, 0.3, n)  # ppl gap exp(0.05) - 1
        point, low, high = intervals.perplexity_ratio(method, dense)
        assert low < np.expm1(0.05) < high
        assert low <= point <= high
        widths.append(high - low)
    assert widths[1] < widths[0] / 2
    assert intervals.perplexity_ratio([1.0, 2.0], [1.0, 2.0]) == (0.0, 0.0, 0.0)

    dense = rng.random(400) < 0.7
    method = dense & (rng.random(400) < 0.8)  # loses ~14 points
    point, low, high = intervals.accuracy_difference(method, dense)
    assert point == pytest.approx(method.mean() - dense.mean())
    assert low < point < high < 0
    with pytest.raises(ValueError):
        intervals.accuracy_difference([], [])


def test_report_gives_perplexity_intervals(tmp_path):
    """With stored per-token NLLs the perplexity table and target carry a
    paired interval, and a gap far outside 2% is called so."""
    pytest.importorskip("matplotlib")
    from magicpig.eval import report

    dense = [1.0, 2.0, 1.5, 0.5] * 10
    methods = {"dense": {"ppl": 4.0, "scored": 40, "touched": 1.0, "nll": dense},
               "magicpig": {"ppl": 4.4, "scored": 40, "touched": 0.04,
                            "nll": [x + 0.1 for x in dense]}}
    data = {"ppl@300": {"options": [6, 20], "tokens": 21, "texts": 2, "context": 300,
                        "methods": methods, "sources": [], "eval_command": "x"}}
    out = tmp_path / "accuracy.md"
    report.write(data, str(tmp_path), str(out), str(tmp_path / "plots"))
    text = out.read_text()
    gap = 100 * np.expm1(0.1)
    assert f"| 300 | MagicPIG | 4.400 | +10.00% | {gap:+.2f}% .. {gap:+.2f}% |" in text
    assert "the whole interval is above +2%" in text


def test_report_gives_the_kl_passkey_table(tmp_path):
    """The kl phase's cases become one row per (context, (K, L)) with the
    paired difference to dense on the same cases."""
    pytest.importorskip("matplotlib")
    from magicpig.eval import report

    def case(dense, a, b):
        return {"dense": {"correct": dense, "touched": 1.0},
                "11x200": {"correct": a, "touched": 0.05},
                "12x450": {"correct": b, "touched": 0.07}}

    cases = [case(True, False, True), case(True, True, True), case(False, False, False),
             case(True, False, True)]
    data = {"kl@300": {"configs": [[11, 200], [12, 450]], "needles": 1, "context": 300,
                       "sources": [], "cases": cases, "eval_command": "x"}}
    out = tmp_path / "accuracy.md"
    report.write(data, str(tmp_path), str(out), str(tmp_path / "plots"))
    text = out.read_text()
    assert "| 300 | 11, 200 | 4 | 5.00% | 25.0% | 75.0% | -50.0 (" in text
    assert "| 300 | 12, 450 | 4 | 7.00% | 75.0% | 75.0% | +0.0 (+0.0 .. +0.0) |" in text
    assert "passkey at other (K, L): 4 cases at 300 for (11, 200), (12, 450)" in text
