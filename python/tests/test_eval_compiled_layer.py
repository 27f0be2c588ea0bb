"""The one-layer graph of `magicpig.eval`'s compiled phase (export, compile,
CompiledLayer) on a small layer: with a complete sample (K = 1, L = 64,
T = 1: every key collides with the query in some table) the compiled
MagicPIG decode must equal exact attention, computed in float64 by
`methods.exact` (numpy); f32 summation gives about 1e-6 relative, so 1e-4
catches any wrong key set or weight. With the paper's (10, 150) the
retrieve counts must equal the numpy reference's for every head."""

import numpy as np
import pytest

from conftest import project_tool
from magicpig.options import MagicPigOptions

pytestmark = pytest.mark.skipif(project_tool("magicpig-compile") is None,
                                reason="magicpig-compile not built")

HQ, HKV, D, N, PREFILL = 4, 2, 16, 200, 180


@pytest.fixture(scope="module")
def layer_mlir(tmp_path_factory):
    from magicpig.eval.compiled_check import export_layer_mlir

    path = tmp_path_factory.mktemp("layer") / "layer.mlir"
    path.write_text(export_layer_mlir(HQ, HKV, D, 512))
    return str(path)


def compiled_layer(layer_mlir, options, tmp_path):
    from magicpig.eval.compiled_check import CompiledLayer, compile_layer

    library = str(tmp_path / f"layer_{options.lsh_bits}_{options.lsh_tables}.so")
    compile_layer(layer_mlir, library, project_tool("magicpig-compile"), options)
    layer = CompiledLayer(library)
    layer.hq = HQ
    return layer


def inputs():
    rng = np.random.default_rng(3)
    k = rng.normal(size=(HKV, N, D)) + rng.normal(size=(HKV, 1, D))
    v = rng.normal(size=(HKV, N, D))
    q = rng.normal(size=(HQ, D))
    return q, k, v


def test_complete_sample_is_exact(layer_mlir, tmp_path):
    from magicpig.eval import methods

    options = MagicPigOptions(lsh_bits=1, lsh_tables=64, min_collisions=1,
                              sink_tokens=4, window_tokens=8)
    layer = compiled_layer(layer_mlir, options, tmp_path)
    q, k, v = inputs()
    index = layer.build_index(k[:, :PREFILL], v[:, :PREFILL])
    out, counts = layer.attend(q, k, v, index)
    truth = methods.exact(q, k, v)[0]
    assert np.max(methods.relative_error(out.astype(np.float64), truth)) < 1e-4
    # Every hashed key (the prefill minus sink and window) was retrieved.
    assert counts.tolist() == [PREFILL - 4 - 8] * HQ


def test_retrieve_counts_match_the_reference(layer_mlir, tmp_path):
    from magicpig import reference
    from magicpig.eval import methods
    from magicpig.projection import simhash_projection

    options = MagicPigOptions(sink_tokens=4, window_tokens=8)
    layer = compiled_layer(layer_mlir, options, tmp_path)
    q, k, v = inputs()
    index = layer.build_index(k[:, :PREFILL], v[:, :PREFILL])
    _, counts = layer.attend(q, k, v, index)
    projection = simhash_projection(D, options.lsh_bits, options.lsh_tables, options.seed)
    ref_index = reference.build_index(k[None, :, :PREFILL], projection, options)
    _, touched = methods.magicpig(q, k, v, ref_index, projection, options)
    exact_keys = 4 + (N - reference.window_start(ref_index, options))
    assert (counts + exact_keys).tolist() == touched.tolist()
