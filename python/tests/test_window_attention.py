"""magicpig.attention with a sliding `window`, compiled by
--magicpig-cpu-pipeline and run by magicpig-run, against numpy dense
attention with an explicit window mask (query at position p sees keys
p - W < j <= p). The shapes take every CPU loop nest: a decode query
([B, Hq, d]: the per-position loops, whose tasks start at the window), a
few queries at the end of a longer context (per-position loops, a window
cut inside a task), and a prefill long enough for the query-block loops
(blocks whose first and last positions see different key ranges), at the
default vector width and at width 8 with small tasks and key blocks.
A window of W >= N must equal plain causal attention; a wrong window bound
(off by one) moves these outputs by far more than the 1e-5 tolerance
(f32 accumulation in another order and a polynomial exp: ~1e-6).
Needs build/bin/magicpig-opt and magicpig-run (skipped without them)."""

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


def reference(q, k, v, scale, window):
    """Dense softmax attention; q [B, Hq, S, d], k/v [B, Hkv, N, d]."""
    b, hq, s, _ = q.shape
    n = k.shape[2]
    group = hq // k.shape[1]
    k = np.repeat(k, group, axis=1).astype(np.float64)
    v = np.repeat(v, group, axis=1).astype(np.float64)
    scores = scale * np.einsum("bhsd,bhnd->bhsn", q.astype(np.float64), k)
    p = (n - s + np.arange(s))[:, None]
    j = np.arange(n)[None, :]
    visible = (j <= p) & (j > p - window)
    scores = np.where(visible, scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return np.einsum("bhsn,bhnd->bhsd", weights, v)


def dense(array):
    values = json.dumps(array.astype(np.float64).tolist())[1:-1]
    shape = "x".join(map(str, array.shape))
    return f"dense<[{values}]> : tensor<{shape}xf32>", f"tensor<{shape}xf32>"


def run_attention(q, k, v, scale, window, causal, pipeline):
    """The op's output, printed by printMemrefF32 from the compiled graph."""
    qc, qt = dense(q)
    kc, kt = dense(k)
    vc, vt = dense(v)
    out_shape = q.shape[:-1] + (v.shape[-1],)
    ot = "tensor<" + "x".join(map(str, out_shape)) + "xf32>"
    mt = ot.replace("tensor", "memref")
    attrs = ("causal " if causal else "") + f"window({window})"
    module = f"""
func.func private @printMemrefF32(memref<*xf32>)
func.func @main() {{
  %q = arith.constant {qc}
  %k = arith.constant {kc}
  %v = arith.constant {vc}
  %init = tensor.empty() : {ot}
  %o = magicpig.attention scale({scale}) {attrs} ins(%q, %k, %v : {qt}, {kt}, {vt})
         outs(%init : {ot}) -> {ot}
  %m = bufferization.to_buffer %o : {ot} to {mt}
  %u = memref.cast %m : {mt} to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}}
"""
    def tool(args, text):
        result = subprocess.run(args, input=text, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout

    lowered = tool([project_tool("magicpig-opt"), "-", pipeline], module)
    printed = tool([project_tool("magicpig-run"), "-e", "main",
                    "-entry-point-result=void"], lowered)
    body = printed[printed.index("\n"):]
    values = [float(x) for x in re.findall(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?|nan|-?inf", body)]
    return np.array(values, dtype=np.float64).reshape(out_shape)


PIPELINES = ["--magicpig-cpu-pipeline",
             "--magicpig-cpu-pipeline=vector-width=8 keys-per-task=4 key-block=8"]

# (name, B, Hq, Hkv, S (None: a [B, Hq, d] decode query), N, d, window)
CASES = [
    ("decode", 1, 4, 2, None, 40, 16, 7),
    ("decode, window = 1", 1, 4, 1, None, 19, 16, 1),
    ("few queries", 2, 6, 2, 3, 37, 20, 6),
    ("prefill, query blocks", 1, 4, 2, 37, 37, 16, 5),
    ("prefill, window spans blocks", 1, 2, 1, 50, 50, 32, 19),
    ("window longer than the context", 1, 4, 2, 21, 21, 16, 64),
]


@pytest.mark.parametrize("pipeline", PIPELINES, ids=["default", "width8"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_window_attention_matches_numpy(case, pipeline):
    _, b, hq, hkv, s, n, d, window = case
    rng = np.random.default_rng(3)
    q = rng.uniform(-1, 1, (b, hq, s or 1, d)).astype(np.float32)
    k = rng.uniform(-1, 1, (b, hkv, n, d)).astype(np.float32)
    v = rng.uniform(-1, 1, (b, hkv, n, d)).astype(np.float32)
    scale = 1.0  # sharp enough that a wrong bound shows
    want = reference(q, k, v, scale, window)
    got = run_attention(q if s else q[:, :, 0], k, v, scale, window, causal=s is not None,
                        pipeline=pipeline)
    if s is None:
        got = got[:, :, None]
    assert np.abs(got - want).max() < TOLERANCE
    # The window matters for these shapes (except the one longer than N).
    plain = reference(q, k, v, scale, n + 1)
    assert (np.abs(plain - want).max() > 1e-3) == (window < n)
