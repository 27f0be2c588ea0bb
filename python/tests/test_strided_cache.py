"""Cache arguments passed as strided views (magicpig-strided-kv-arguments,
docs/CompiledGraphABI.md): the compiled decode reads the filled rows of a
larger buffer in place, with the strides of the view.

The graph (test/magicpig-compile/Inputs/cache_window.mlir) is exact
attention of one query over layer 1 of a stacked cache; its result is
checked against attention computed here in float64. The buffer's unused
rows are NaN, so a graph that read past the view or used the contiguous
strides of the view's shape would return NaN or other rows' values. f32
summation over 40 keys: 1e-5 absolute on outputs of magnitude ~1.
"""

import os
import subprocess

import numpy as np
import pytest

from conftest import REPO_ROOT, project_tool
from magicpig.compiled import (entry_point, is_row_strided, read_graph_info,
                               to_descriptor)

pytestmark = pytest.mark.skipif(project_tool("magicpig-compile") is None,
                                reason="magicpig-compile not built")

SOURCE = os.path.join(REPO_ROOT, "test", "magicpig-compile", "Inputs", "cache_window.mlir")
LAYERS, HKV, HQ, D, SCALE = 2, 2, 4, 16, 0.25


@pytest.fixture(scope="module")
def decode(tmp_path_factory):
    import ctypes

    library = str(tmp_path_factory.mktemp("strided") / "cache_window.so")
    subprocess.run([project_tool("magicpig-compile"), SOURCE, "-o", library, "--quiet",
                    "--attention=dense"], check=True)
    handle = ctypes.CDLL(library)
    functions = read_graph_info(handle, library)["functions"]
    assert [a.get("strided", False) for a in functions["decode"]["arguments"]] == \
        [False, True, True]
    return entry_point(handle, functions, "decode", library)


def exact(q, k, v):
    """q [Hq, d], k/v [Hkv, N, d] -> [Hq, d], grouped-query heads."""
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    out = np.empty_like(q)
    for h in range(HQ):
        g = h // (HQ // HKV)
        s = SCALE * k[g] @ q[h]
        p = np.exp(s - s.max())
        out[h] = p @ v[g] / p.sum()
    return out


@pytest.mark.parametrize("filled", [1, 40])
def test_decode_reads_a_view_of_a_larger_buffer(decode, filled):
    rng = np.random.default_rng(filled)
    capacity = 64
    k = np.full((LAYERS, 1, HKV, capacity, D), np.nan, np.float32)
    v = np.full_like(k, np.nan)
    k[:, :, :, :filled] = rng.standard_normal((LAYERS, 1, HKV, filled, D))
    v[:, :, :, :filled] = rng.standard_normal((LAYERS, 1, HKV, filled, D))
    q = rng.standard_normal((1, HQ, D)).astype(np.float32)
    k_view, v_view = k[:, :, :, :filled], v[:, :, :, :filled]
    assert not k_view.flags.c_contiguous and is_row_strided(k_view)

    (out,) = decode(q, k_view, v_view)
    want = exact(q[0], k_view[1, 0], v_view[1, 0])
    np.testing.assert_allclose(out[0], want, rtol=0, atol=1e-5)
    # A contiguous copy gives the same bits.
    (copy,) = decode(q, np.ascontiguousarray(k_view), np.ascontiguousarray(v_view))
    np.testing.assert_array_equal(out, copy)


def test_arguments_without_strides_get_a_contiguous_copy(decode):
    """The query is not marked strided: a non-contiguous query is copied,
    not passed with strides the graph would ignore."""
    rng = np.random.default_rng(3)
    k = rng.standard_normal((LAYERS, 1, HKV, 8, D)).astype(np.float32)
    v = rng.standard_normal((LAYERS, 1, HKV, 8, D)).astype(np.float32)
    wide = rng.standard_normal((1, HQ, 2 * D)).astype(np.float32)
    q = wide[:, :, ::2]
    (out,) = decode(q, k, v)
    np.testing.assert_allclose(out[0], exact(q[0], k[1, 0], v[1, 0]), rtol=0, atol=1e-5)


def test_views_without_contiguous_rows_are_refused():
    a = np.zeros((4, 6), np.float32)
    assert is_row_strided(a[:, :3]) and not is_row_strided(a[:, ::2])
    assert not is_row_strided(a.T)
    with pytest.raises(ValueError, match="C-contiguous"):
        to_descriptor(a[:, ::2])
