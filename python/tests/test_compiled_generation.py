"""The compiled generation path on a tiny random Llama, end to end and fast:
export (torch-mlir) -> magicpig-compile --attention=dense and
--attention=magicpig -> the decode loop of magicpig.generate
(`generate_tokens` with `CompiledBackend`, as `python3 -m magicpig.generate
--backend compiled` runs it).

Tolerances: the compiled dense graph computes the eager model's f32 math in
another summation order (vectorized reductions, fused matmuls); over 3
layers with logits of magnitude ~0.1 the measured difference is about 3e-7,
so 1e-4 absolute is loose against noise yet far below a real bug (a wrong
mask or RoPE position moves logits by 1e-2 or more).
A complete sample (K = 1, L = 64, T = 1: a key is missed only if it lands
on the other side of all 64 random hyperplanes, and its retrieval
probability u rounds to 1 in f32) makes MagicPIG attention exact, so the
magicpig graph must equal the dense one within the same tolerance.
Needs build/bin/magicpig-compile (skipped without it); about 30 s on 2 cores.
"""

import numpy as np
import pytest
import torch

from batch_check import check_batched_against_alone
from conftest import load_in_subprocess, project_tool, truncated_copy
from magicpig.backends import CompiledBackend
from magicpig.errors import MagicPigError
from magicpig.generate import generate_tokens
from magicpig.options import MagicPigOptions

pytestmark = pytest.mark.skipif(project_tool("magicpig-compile") is None,
                                reason="magicpig-compile not built")

ATOL = 1e-4
PROMPT = 80      # tokens: sink 4 + hashed middle 60 + window 16
NEW_TOKENS = 12
SINK, WINDOW = 4, 16
BF16_MIN_ELEMENTS = 1024
COMPLETE = MagicPigOptions(lsh_bits=1, lsh_tables=64, min_collisions=1,
                           sink_tokens=SINK, window_tokens=WINDOW, dense_layers=(-1,))
PAPER = MagicPigOptions(sink_tokens=SINK, window_tokens=WINDOW, dense_layers=(0,))


@pytest.fixture(scope="module")
def model():
    from magicpig.export import tiny_model

    return tiny_model(num_layers=3, seed=5)


@pytest.fixture(scope="module")
def graphs(model, tmp_path_factory, monkeypatch_module):
    """One export, three graphs, through magicpig.graph_cache as generate
    builds them."""
    from magicpig.graph_cache import compiled_graph

    monkeypatch_module.setenv("MAGICPIG_COMPILE", project_tool("magicpig-compile"))
    root = str(tmp_path_factory.mktemp("graphs"))
    graphs = {name: compiled_graph(model, "tiny-seed5", attention, options, root=root)
              for name, attention, options in [("dense", "dense", MagicPigOptions()),
                                               ("complete", "magicpig", COMPLETE),
                                               ("paper", "magicpig", PAPER)]}
    # The tiny model's matrices are small: take those of at least 1024
    # elements for weights.
    graphs["dense-bf16"] = compiled_graph(model, "tiny-seed5", "dense", MagicPigOptions(),
                                          root=root, weight_type="bf16",
                                          min_weight_elements=BF16_MIN_ELEMENTS)
    for kv in ("bf16", "f16"):
        graphs[f"dense-kv-{kv}"] = compiled_graph(model, "tiny-seed5", "dense",
                                                  MagicPigOptions(), root=root, kv_type=kv)
    graphs["complete-kv-bf16"] = compiled_graph(model, "tiny-seed5", "magicpig", COMPLETE,
                                                root=root, kv_type="bf16")
    return graphs


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def prompt():
    generator = torch.Generator().manual_seed(11)
    return torch.randint(0, 256, (PROMPT,), generator=generator).tolist()


def run(model, library, prompt, attention=None):
    """Greedy generation; returns (tokens, logits of every step, backend)."""
    backend = CompiledBackend(model, library, attention)
    seen = []

    def choose(logits):
        seen.append(logits.clone())
        return int(torch.argmax(logits))

    tokens, _, _, steps = generate_tokens(backend, prompt, NEW_TOKENS, -1, choose)
    assert len(tokens) == NEW_TOKENS and steps == NEW_TOKENS - 1
    return tokens, torch.stack(seen), backend


@pytest.fixture(scope="module")
def dense_run(model, graphs, prompt):
    return run(model, graphs["dense"], prompt, "dense")


def test_compiled_dense_logits_match_eager(model, prompt, dense_run):
    tokens, logits, _ = dense_run
    with torch.no_grad():
        eager = model(torch.tensor([prompt + tokens[:-1]]))[0, PROMPT - 1:]
    assert logits.shape == eager.shape
    np.testing.assert_allclose(logits.numpy(), eager.numpy(), rtol=0, atol=ATOL)
    assert tokens == [int(t) for t in eager.argmax(-1)]


def test_complete_sample_equals_dense(model, graphs, prompt, dense_run):
    tokens, logits, backend = run(model, graphs["complete"], prompt, "magicpig")
    assert backend.compiled.sparse_layers == 3
    np.testing.assert_allclose(logits.numpy(), dense_run[1].numpy(), rtol=0, atol=ATOL)
    assert tokens == dense_run[0]
    # Every key of the hashed middle was retrieved, by the graph's own count.
    assert backend.keys_touched.retrieved_fraction() == 1.0
    assert backend.keys_touched.fraction() == 1.0


def test_paper_parameters_sample_part_of_the_middle(model, graphs, prompt, dense_run):
    """K = 10, L = 150, T = 2 on random keys retrieves a few percent: the
    graph is really sampled (logits move), and the counts say so."""
    _, logits, backend = run(model, graphs["paper"], prompt, "magicpig")
    stats = backend.keys_touched
    assert backend.compiled.sparse_layers == 2
    assert 0.0 < stats.retrieved_fraction() < 0.5
    assert stats.fraction() < 1.0
    assert np.abs(logits.numpy() - dense_run[1].numpy()).max() > ATOL


def test_library_with_other_attention_is_rejected(model, graphs):
    with pytest.raises(MagicPigError, match="was compiled with --attention=dense"):
        CompiledBackend(model, graphs["dense"], "magicpig")


def test_truncated_graph_is_a_one_line_error(graphs, tmp_path):
    """A compiled graph cut short (a full disk, an interrupted copy) killed
    generate with SIGBUS inside dlopen, without a message."""
    result = load_in_subprocess(truncated_copy(graphs["dense"], tmp_path))
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stderr.startswith("error: cannot load ") and \
        "truncated or damaged shared library" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_weights_not_matching_the_graph(graphs):
    from magicpig.export import tiny_model

    other = tiny_model(num_layers=2)  # a layer fewer than the compiled graph
    with pytest.raises(MagicPigError, match="the weights do not match the compiled "
                                            "graph .*: the model has 20 weight "
                                            "tensors, the graph takes 29"):
        CompiledBackend(other, graphs["dense"])
    wide = tiny_model(num_layers=3)
    with torch.no_grad():
        wide.layers[1].wq.data = torch.zeros(32, 64)
    with pytest.raises(MagicPigError, match=r"weight [0-9]+ \(layers.1.wq\) is \[32, 64\], "
                                            r"the graph expects 64x64 f32"):
        CompiledBackend(wide, graphs["dense"])


def test_parallel_token_loops_give_the_same_logits(model, graphs, prompt, dense_run,
                                                   tmp_path):
    """The prefill's token loops as OpenMP tiles (magicpig-compile's default)
    or sequential (--parallel-token-loops=false): each tile is the same op
    on its rows, the same arithmetic, so the same logits bit for bit."""
    import os
    import subprocess

    mlir = os.path.join(os.path.dirname(graphs["dense"]), "model.mlir")
    library = str(tmp_path / "dense-sequential.so")
    subprocess.run([project_tool("magicpig-compile"), mlir, "-o", library, "--quiet",
                    "--attention=dense", "--parallel-token-loops=false"], check=True)
    tokens, logits, _ = run(model, library, prompt, "dense")
    assert tokens == dense_run[0]
    np.testing.assert_array_equal(logits.numpy(), dense_run[1].numpy())


def test_bf16_weights_match_eager_on_rounded_weights(model, graphs, prompt):
    """--weight-type=bf16: the weight matrices are passed rounded to bf16
    and widened in the graph, so the graph must equal the eager model whose
    matrices torch rounded to bf16 (an independent rounding), within the f32
    tolerance; the norm vectors stay f32."""
    import copy

    tokens, logits, backend = run(model, graphs["dense-bf16"], prompt, "dense")
    arguments = backend.compiled.info["functions"]["decode"]["arguments"]
    named = list(model.named_parameters())
    narrowed = [p.dim() == 2 and p.numel() >= BF16_MIN_ELEMENTS for _, p in named]
    assert sum(narrowed) >= 3 * 7  # the matrices of every layer, and more
    for (name, p), arg, narrow in zip(named, arguments, narrowed):
        assert arg["dtype"] == ("bf16" if narrow else "f32"), name
    assert backend.compiled.options["weight-type"] == "bf16"

    rounded = copy.deepcopy(model)
    with torch.no_grad():
        for p in rounded.parameters():
            if p.dim() == 2 and p.numel() >= BF16_MIN_ELEMENTS:
                p.copy_(p.to(torch.bfloat16).float())
        eager = rounded(torch.tensor([prompt + tokens[:-1]]))[0, PROMPT - 1:]
        original = model(torch.tensor([prompt + tokens[:-1]]))[0, PROMPT - 1:]
    np.testing.assert_allclose(logits.numpy(), eager.numpy(), rtol=0, atol=ATOL)
    # ... and the rounding is visible: the f32 model's logits differ more.
    assert np.abs(logits.numpy() - original.numpy()).max() > 10 * ATOL


def test_to_bf16_rounds_like_torch():
    """magicpig.compiled.to_bf16 against torch's f32 -> bf16 conversion:
    round to nearest even, ties, subnormals, infinities and NaN."""
    from magicpig.compiled import to_bf16

    rng = np.random.default_rng(3)
    scales = 10.0 ** rng.integers(-40, 38, 10000)
    special = [0.0, -0.0, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8, np.inf, -np.inf, 1e-40,
               3.3895314e38]
    x = np.concatenate([rng.standard_normal(10000) * scales, special]).astype(np.float32)
    want = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(to_bf16(x), want)
    nan = to_bf16(np.array([np.nan], dtype=np.float32))
    assert torch.from_numpy(nan.view(np.int16)).view(torch.bfloat16).float().isnan().all()


def eager_on_rounded_cache(model, prompt, tokens, dtype):
    """The eager model's logits of each step when every cached K/V row is
    rounded to `dtype` (torch's conversion) and widened again: what a graph
    compiled with --kv-type reads. The step's own row is attended unrounded,
    as the graph does (it is appended to the cache after the step)."""
    def rounded(x):
        return x.to(dtype).float()

    with torch.no_grad():
        logits, k, v = model.prefill(torch.tensor([prompt]))
        k, v = rounded(k), rounded(v)
        seen = [logits[0]]
        for step, token in enumerate(tokens[:-1]):
            logits, k_new, v_new = model.decode(torch.tensor([[token]]), k.shape[3], k, v)
            seen.append(logits[0])
            k = torch.cat([k, rounded(k_new)], dim=3)
            v = torch.cat([v, rounded(v_new)], dim=3)
    return torch.stack(seen)


@pytest.mark.parametrize("kv", ["bf16", "f16"])
def test_narrow_kv_cache_matches_eager_on_rounded_cache(model, graphs, prompt, dense_run,
                                                        kv):
    """--kv-type: the caller stores the cache in bf16 / f16, the graph widens
    each row it reads, so its logits must equal the eager model's over the
    rounded cache (rounded by torch, independently) within the f32
    tolerance; the cache takes half the memory of the f32 one."""
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16}[kv]
    tokens, logits, backend = run(model, graphs[f"dense-kv-{kv}"], prompt, "dense")
    decode = backend.compiled.info["functions"]["decode"]["arguments"]
    weights = len(list(model.parameters()))
    assert [a["dtype"] for a in decode[weights + 2:weights + 4]] == [kv, kv]
    assert backend.compiled.options["kv-type"] == kv
    assert backend.cache.k.dtype == dtype and backend.cache.v.dtype == dtype

    want = eager_on_rounded_cache(model, prompt, tokens, dtype)
    np.testing.assert_allclose(logits.numpy(), want.numpy(), rtol=0, atol=ATOL)
    f32_tokens, f32_logits, f32_backend = dense_run
    assert backend.cache.length == f32_backend.cache.length
    assert 2 * backend.cache.filled_bytes() == f32_backend.cache.filled_bytes()
    if kv == "bf16":  # 8 mantissa bits: the rounding is visible in the logits
        assert np.abs(logits.numpy() - f32_logits.numpy()).max() > ATOL


def test_complete_sample_with_bf16_cache_equals_dense(model, graphs, prompt):
    """MagicPIG's estimate and window read the bf16 cache too: with a
    complete sample the magicpig graph equals the dense one on the same
    bf16 cache."""
    dense_tokens, dense_logits, _ = run(model, graphs["dense-kv-bf16"], prompt, "dense")
    tokens, logits, backend = run(model, graphs["complete-kv-bf16"], prompt, "magicpig")
    assert backend.compiled.sparse_layers > 0
    assert tokens == dense_tokens
    np.testing.assert_allclose(logits.numpy(), dense_logits.numpy(), rtol=0, atol=ATOL)


# --- decode_batch: a padded batch in one call equals each sequence's decode

BATCH_PROMPTS = (PROMPT, PROMPT + 17, PROMPT + 5)  # lengths differ in one batch


@pytest.mark.parametrize("graph", ["dense", "complete", "paper", "dense-kv-bf16",
                                   "complete-kv-bf16"])
def test_decode_batch_equals_each_sequence_alone(model, graphs, graph):
    """The same index and the same compile-time SimHash projection: sampled
    layers retrieve exactly the same keys batched as alone (equal counts),
    so batched and alone differ only by summation order (ATOL)."""
    from magicpig.compiled import load_for_model

    retrieved = check_batched_against_alone(load_for_model(model, graphs[graph]), 256,
                                            BATCH_PROMPTS, ATOL)
    if graph == "paper":  # really sampled: some keys retrieved
        assert retrieved > 0


def test_decode_batch_checks_its_positions(model, graphs):
    from magicpig.compiled import load_for_model

    compiled = load_for_model(model, graphs["dense"])
    c = model.config
    cache = np.zeros((c.num_layers, 2, c.num_kv_heads, 4, c.head_dim), np.float32)
    with pytest.raises(MagicPigError, match="do not fit"):
        compiled.decode_batch([[1], [2]], [3, 5], cache, cache)
    with pytest.raises(MagicPigError, match="do not fit"):
        compiled.decode_batch([[1], [2], [3]], [1, 2, 3], cache, cache)
    with pytest.raises(MagicPigError, match="one token and one index row"):
        compiled.decode_batch([[1], [2], [3]], [1, 2], cache, cache)


def test_decode_batch_checks_its_index_rows(model, graphs):
    """Index buffers of another batch size than the cache's: an error, not
    the graph's run-time size check aborting the process."""
    from magicpig.compiled import load_for_model

    compiled = load_for_model(model, graphs["paper"])
    _, k, v, index = compiled.prefill([list(range(3, 3 + PROMPT))])
    two = np.concatenate([k, k], axis=1)
    with pytest.raises(MagicPigError, match="one token and one index row"):
        compiled.decode_batch([[1], [2]], [PROMPT, PROMPT], two,
                              np.concatenate([v, v], axis=1), index)
