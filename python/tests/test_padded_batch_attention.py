"""Decode attention over a padded batch (the `lengths` and `starts`
operands of magicpig.attention and magicpig.window_attention), compiled by
--magicpig-cpu-pipeline and run by magicpig-run, against numpy dense
attention over each sequence's own keys. The padding rows hold values of
magnitude 30: a kernel that read one of them moves the output by far more
than the tolerance (1e-5: f32 accumulation in another order and a
polynomial exp give ~1e-6). Lengths outside [0, N - 1] check the clamp the
op defines. Needs build/bin/magicpig-opt and magicpig-run."""

import json
import re
import subprocess

import numpy as np
import pytest

from conftest import project_tool

pytestmark = pytest.mark.skipif(
    project_tool("magicpig-opt") is None or project_tool("magicpig-run") is None,
    reason="magicpig-opt / magicpig-run not built")

TOLERANCE = 1e-5
PIPELINES = ["--magicpig-cpu-pipeline",
             "--magicpig-cpu-pipeline=vector-width=8 keys-per-task=4 key-block=8"]


def attend(q, k, v, scale, visible):
    """softmax attention of q [B, Hq, d] over k/v [B, Hkv, N, d] where
    visible [B, N] is true, in f64; an empty row gives 0 and lse -inf."""
    group = q.shape[1] // k.shape[1]
    k = np.repeat(k, group, axis=1).astype(np.float64)
    v = np.repeat(v, group, axis=1).astype(np.float64)
    scores = scale * np.einsum("bhd,bhnd->bhn", q.astype(np.float64), k)
    scores = np.where(visible[:, None, :], scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    weights = np.exp(scores - top)
    total = weights.sum(axis=-1, keepdims=True)
    out = np.einsum("bhn,bhnd->bhd", weights, v) / np.where(total > 0, total, 1.0)
    with np.errstate(divide="ignore"):
        lse = (top + np.log(total))[..., 0]
    return out, lse


def constant(array, element="f32"):
    values = json.dumps(array.tolist())[1:-1] if array.ndim else str(array)
    shape = "x".join(map(str, array.shape))
    kind = f"tensor<{shape}x{element}>"
    return f"arith.constant dense<[{values}]> : {kind}", kind


def printed(text, shape):
    body = text[text.index("\n"):]
    values = re.findall(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?|nan|-?inf", body)
    return np.array([float(x) for x in values], dtype=np.float64).reshape(shape)


def run(module, pipeline):
    def tool(args, text):
        result = subprocess.run(args, input=text, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout

    lowered = tool([project_tool("magicpig-opt"), "-", pipeline], module)
    return tool([project_tool("magicpig-run"), "-e", "main",
                 "-entry-point-result=void"], lowered)


def printing(value, kind):
    memref = kind.replace("tensor", "memref")
    return f"""
  %m_{value} = bufferization.to_buffer %{value} : {kind} to {memref}
  %u_{value} = memref.cast %m_{value} : {memref} to memref<*xf32>
  call @printMemrefF32(%u_{value}) : (memref<*xf32>) -> ()"""


def padded_batch(b, hq, hkv, n, d, seed):
    rng = np.random.default_rng(seed)
    q = rng.uniform(-1, 1, (b, hq, d)).astype(np.float32)
    k = rng.uniform(-1, 1, (b, hkv, n, d)).astype(np.float32)
    v = rng.uniform(-1, 1, (b, hkv, n, d)).astype(np.float32)
    return q, k, v


def poison(k, v, visible):
    """Rows no sequence may read get large values."""
    hidden = ~visible[:, None, :, None]
    k[...] = np.where(hidden, np.float32(30.0), k)
    v[...] = np.where(hidden, np.float32(-30.0), v)


# (name, Hq, Hkv, N, d, lengths, window): lengths beyond N - 1 and below 0
# clamp; with a window W sequence b sees its cache keys l - W < j < l.
ATTENTION_CASES = [
    ("mixed lengths", 4, 2, 40, 16, [0, 1, 17, 39], None),
    ("one sequence, full cache", 4, 1, 33, 20, [32], None),
    ("lengths out of range", 2, 2, 25, 16, [-3, 60, 24], None),
    ("sliding window", 4, 2, 40, 16, [0, 3, 17, 39], 6),
    ("window over lengths out of range", 2, 1, 25, 16, [-3, 60, 24, 2], 4),
]


@pytest.mark.parametrize("pipeline", PIPELINES, ids=["default", "width8"])
@pytest.mark.parametrize("concat", [False, True], ids=["one-cache", "appended-row"])
@pytest.mark.parametrize("case", ATTENTION_CASES, ids=[c[0] for c in ATTENTION_CASES])
def test_attention_lengths_match_numpy(case, concat, pipeline):
    """Sequence b attends to keys j < lengths[b] (with a window W, those
    above lengths[b] - W) and its own key N - 1; with `concat` the own key
    is an appended row (split by magicpig-split-appended-kv, which the CPU
    pipeline runs)."""
    _, hq, hkv, n, d, lengths, window = case
    b = len(lengths)
    q, k, v = padded_batch(b, hq, hkv, n, d, seed=n)
    j = np.arange(n)[None, :]
    length = np.array(lengths)[:, None]
    cached = j < length  # the window start reads the length unclamped
    if window is not None:
        cached &= j > length - window
    visible = cached | (j == n - 1)
    poison(k, v, visible)
    scale = 0.7
    want, _ = attend(q, k, v, scale, visible)

    qc, qt = constant(q)
    lc, lt = constant(np.array(lengths, dtype=np.int64), "i64")
    ot = f"tensor<{b}x{hq}x{d}xf32>"
    kt = f"tensor<{b}x{hkv}x{n}x{d}xf32>"
    if concat:
        cached = f"tensor<{b}x{hkv}x{n - 1}x{d}xf32>"
        row = f"tensor<{b}x{hkv}x1x{d}xf32>"
        kcc, _ = constant(k[:, :, :-1])
        knc, _ = constant(k[:, :, -1:])
        vcc, _ = constant(v[:, :, :-1])
        vnc, _ = constant(v[:, :, -1:])
        operands = f"""
  %kc = {kcc}
  %kn = {knc}
  %vc = {vcc}
  %vn = {vnc}
  %k = tensor.concat dim(2) %kc, %kn : ({cached}, {row}) -> {kt}
  %v = tensor.concat dim(2) %vc, %vn : ({cached}, {row}) -> {kt}"""
    else:
        kc, _ = constant(k)
        vc, _ = constant(v)
        operands = f"""
  %k = {kc}
  %v = {vc}"""
    module = f"""
func.func private @printMemrefF32(memref<*xf32>)
func.func @main() {{
  %q = {qc}
  %len = {lc}{operands}
  %init = tensor.empty() : {ot}
  %o = magicpig.attention scale({scale}) {f"window({window}) " if window else ""}lengths(%len : {lt})
         ins(%q, %k, %v : {qt}, {kt}, {kt}) outs(%init : {ot}) -> {ot}{printing("o", ot)}
  return
}}
"""
    got = printed(run(module, pipeline), want.shape)
    assert np.abs(got - want).max() < TOLERANCE


# (name, Hq, Hkv, N, d, sink, window_start, lengths, starts)
WINDOW_CASES = [
    ("lengths only", 4, 2, 37, 16, 0, 0, [37, 5, 0], None),
    ("sink, window and per-sequence starts", 4, 2, 45, 16, 3, 3,
     [45, 30, 12, 2], [20, 3, 40, 9]),
    ("starts under the shared window_start", 2, 1, 29, 20, 2, 11,
     [29, 29], [4, 18]),
]


@pytest.mark.parametrize("pipeline", PIPELINES, ids=["default", "width8"])
@pytest.mark.parametrize("case", WINDOW_CASES, ids=[c[0] for c in WINDOW_CASES])
def test_window_attention_lengths_and_starts_match_numpy(case, pipeline):
    """Keys of sequence b: [0, sink) U [max(window_start, starts[b], sink), N),
    all cut at lengths[b]; out and lse."""
    _, hq, hkv, n, d, sink, window_start, lengths, starts = case
    b = len(lengths)
    q, k, v = padded_batch(b, hq, hkv, n, d, seed=n + 1)
    j = np.arange(n)[None, :]
    first = np.maximum(window_start, sink) * np.ones((b, 1), dtype=np.int64)
    if starts is not None:
        first = np.maximum(first, np.array(starts)[:, None])
    visible = ((j < sink) | (j >= first)) & (j < np.array(lengths)[:, None])
    poison(k, v, (j < np.array(lengths)[:, None]) & np.ones((b, n), dtype=bool))
    scale = 0.9
    want, want_lse = attend(q, k, v, scale, visible)

    qc, qt = constant(q)
    kc, kt = constant(k)
    vc, _ = constant(v)
    lc, lt = constant(np.array(lengths, dtype=np.int64), "i64")
    extra = f"lengths(%len : {lt})"
    declare = f"  %len = {lc}\n"
    if starts is not None:
        sc, st = constant(np.array(starts, dtype=np.int32), "i32")
        extra += f" starts(%starts : {st})"
        declare += f"  %starts = {sc}\n"
    ot = f"tensor<{b}x{hq}x{d}xf32>"
    lset = f"tensor<{b}x{hq}xf32>"
    module = f"""
func.func private @printMemrefF32(memref<*xf32>)
func.func @main() {{
  %q = {qc}
  %k = {kc}
  %v = {vc}
{declare}  %ws = arith.constant {window_start} : index
  %init = tensor.empty() : {ot}
  %linit = tensor.empty() : {lset}
  %o, %lse = magicpig.window_attention sink({sink}) window_start(%ws) {extra} scale({scale})
         ins(%q, %k, %v : {qt}, {kt}, {kt}) outs(%init, %linit : {ot}, {lset})
         -> {ot}, {lset}{printing("o", ot)}{printing("lse", lset)}
  return
}}
"""
    text = run(module, pipeline)
    second = text.index("Unranked", 1)
    got = printed(text[:second], want.shape)
    got_lse = printed(text[second:], want_lse.shape)
    assert np.abs(got - want).max() < TOLERANCE
    finite = np.isfinite(want_lse)
    assert (np.isfinite(got_lse) == finite).all()
    assert np.abs(got_lse[finite] - want_lse[finite]).max() < TOLERANCE
