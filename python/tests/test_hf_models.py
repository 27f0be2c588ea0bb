"""transformers causal LMs compiled by `magicpig.compile_model`, one tiny
random model per architecture (python/tests/hf_tiny.py: 2 layers, hidden
64, 4 query heads, 2 kv heads where the architecture has GQA, vocabulary
128), exported once (magicpig.hf_export) and compiled three times (dense,
MagicPIG with a complete sample, MagicPIG with the default options) in one
module-scoped fixture per architecture.

Tolerance: the compiled dense graph computes transformers' f32 eager math
in another order (vectorized reductions, fused loops, its own exp / tanh
approximations); measured over 2 layers with logits up to ~5: 4e-7 to
3e-6, 1.1e-4 for Gemma 3 (GELU-tanh and its four norms per layer). 5e-4
absolute is above that noise and far below what a real bug does: a wrong
mask, window or RoPE position moves these logits by 1e-2 or more.
A complete sample (K = 1, L = 64, T = 1, every layer sparse: a key is
missed only on the other side of all 64 random hyperplanes, and its
retrieval probability rounds to 1 in f32) makes MagicPIG exact, so it must
equal the dense graph within the same tolerance, and the graph's own
retrieve counts must say that every hashed key was read.
Needs build/bin/magicpig-compile (skipped without it).
"""

import os

import numpy as np
import pytest
import torch

from batch_check import check_batched_against_alone
from conftest import project_tool
from hf_tiny import ARCHITECTURES, tiny_model

pytestmark = pytest.mark.skipif(project_tool("magicpig-compile") is None,
                                reason="magicpig-compile not built")

ATOL = 5e-4
PROMPT = 96          # tokens: sink 4 + hashed middle 76 + window 16
NEW_TOKENS = 8
COMPLETE = dict(lsh_bits=1, lsh_tables=64, min_collisions=1, sink_tokens=4,
                window_tokens=16, dense_layers=(-1,))
# Layers that stay exact under MagicPIG: Gemma 3's layer 0 is a
# sliding-window layer (window 8 < PROMPT, so the window matters), raised
# with its window and left exact by sparsify.
NOT_SPARSE = {"gemma3": {0}}


@pytest.fixture(scope="module")
def graph_root(tmp_path_factory):
    os.environ.setdefault("MAGICPIG_COMPILE", project_tool("magicpig-compile"))
    return str(tmp_path_factory.mktemp("hf_graphs"))


@pytest.fixture(scope="module")
def prompt():
    generator = torch.Generator().manual_seed(7)
    return torch.randint(3, 128, (1, PROMPT), generator=generator)


class Compiled:
    """One architecture: the eager model, its greedy tokens and logits, and
    the three compiled graphs."""

    def __init__(self, arch, root, prompt, implementation="eager", variants=None):
        import magicpig

        self.arch = arch
        self.model = tiny_model(arch, implementation)
        with torch.no_grad():
            out = self.model.generate(prompt, attention_mask=torch.ones_like(prompt),
                                      max_new_tokens=NEW_TOKENS,
                                      min_new_tokens=NEW_TOKENS, do_sample=False)
            self.tokens = out[0, PROMPT:].tolist()
            full = self.model(out[:, :-1]).logits[0, PROMPT - 1:]
        self.logits = full.numpy()
        variants = variants or ("dense", "complete", "default")
        options = {"dense": ("dense", {}), "complete": ("magicpig", COMPLETE),
                   "default": ("magicpig", {})}
        self.graphs = {name: magicpig.compile_model(self.model, attention=options[name][0],
                                                    root=root, **options[name][1])
                       for name in variants}

    def run(self, name, prompt):
        graph = self.graphs[name]
        tokens = graph.generate(prompt, NEW_TOKENS)
        return tokens, torch.stack(graph.last_logits).numpy(), graph


_compiled = {}


@pytest.fixture(scope="module", params=list(ARCHITECTURES))
def compiled(request, graph_root, prompt):
    arch = request.param
    if arch not in _compiled:
        _compiled.clear()  # one architecture's graphs loaded at a time
        _compiled[arch] = Compiled(arch, graph_root, prompt)
    return _compiled[arch]


def test_dense_matches_eager_generate(compiled, prompt):
    tokens, logits, _ = compiled.run("dense", prompt)
    assert tokens == compiled.tokens, compiled.arch
    np.testing.assert_allclose(logits, compiled.logits, rtol=0, atol=ATOL,
                               err_msg=compiled.arch)


def test_complete_sample_equals_dense(compiled, prompt):
    dense_tokens, dense_logits, _ = compiled.run("dense", prompt)
    tokens, logits, graph = compiled.run("complete", prompt)
    layers = compiled.model.config.get_text_config().num_hidden_layers
    assert graph.sparse_layers == layers - len(NOT_SPARSE.get(compiled.arch, ()))
    assert tokens == dense_tokens
    np.testing.assert_allclose(logits, dense_logits, rtol=0, atol=ATOL,
                               err_msg=compiled.arch)
    assert graph.keys_touched.retrieved_fraction() == 1.0


def test_default_options_run(compiled, prompt):
    """K = 10, L = 150, T = 2, sink 4, window 64, dense layers as the pass
    picks them (none for 2 layers): the sampled graph runs and reads part
    of the 28-token hashed middle."""
    tokens, logits, graph = compiled.run("default", prompt)
    assert len(tokens) == NEW_TOKENS and np.isfinite(logits).all()
    assert graph.sparse_layers >= 1
    assert 0.0 <= graph.keys_touched.retrieved_fraction() <= 1.0
    assert graph.keys_touched.fraction() < 1.0


@pytest.mark.parametrize("name", ["dense", "default"])
def test_decode_batch_equals_each_sequence_alone(compiled, name):
    """The export's decode_batch (the padding mask raised to lengths;
    Gemma 3's sliding-window layers to window(8) lengths) over sequences of
    different lengths, longer than the window, sequences leaving midway,
    against each sequence's own decode."""
    graph = compiled.graphs[name].backend.compiled
    check_batched_against_alone(graph, 128, (PROMPT, PROMPT + 17, PROMPT + 5), ATOL)


def test_sdpa_matches_eager(graph_root, prompt):
    """attn_implementation="sdpa": torch's SDPA decomposed by the export
    (its all -inf row guard included) is raised like eager attention."""
    sdpa = Compiled("llama", graph_root, prompt, "sdpa", variants=("dense", "complete"))
    eager = tiny_model("llama", "eager")
    with torch.no_grad():
        out = eager.generate(prompt, attention_mask=torch.ones_like(prompt),
                             max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                             do_sample=False)
    tokens, logits, _ = sdpa.run("dense", prompt)
    assert tokens == sdpa.tokens == out[0, PROMPT:].tolist()
    np.testing.assert_allclose(logits, sdpa.logits, rtol=0, atol=ATOL)
    assert sdpa.graphs["complete"].sparse_layers == 2


def test_export_is_plain_linalg(graph_root, prompt):
    """The export of every architecture compiled above has no tm_tensor op
    and both entry points with dynamic lengths."""
    exports = []
    for directory, _, files in os.walk(graph_root):
        if "model.mlir" in files:
            with open(os.path.join(directory, "model.mlir")) as f:
                exports.append(f.read())
    assert len(exports) >= len(ARCHITECTURES)
    for text in exports:
        assert "tm_tensor" not in text
        assert "func.func @prefill" in text and "func.func @decode" in text
        assert "tensor<1x?xi64>" in text  # the dynamic prompt


def test_gemma3_sliding_layer_is_raised_with_its_window(graph_root):
    """Both attentions of each Gemma 3 entry point are raised, none
    declined: the sliding-window layer (0) as `causal window(8)` (prefill,
    and decode from its position; decode_batch with the lengths too), the
    global one (1) plainly causal in prefill, plain in decode, with the
    lengths in decode_batch. Sparsify keeps layer 0 exact and says so.
    (That the windowed layer computes transformers' numbers is
    test_dense_matches_eager_generate at a 96-token prompt.)"""
    import glob
    import subprocess

    exports = [p for p in glob.glob(os.path.join(graph_root, "*", "manifest.json"))
               if '"Gemma3ForCausalLM"' in open(p).read()]
    assert exports
    mlir = os.path.join(os.path.dirname(exports[0]), "model.mlir")
    result = subprocess.run([project_tool("magicpig-opt"), mlir,
                             "--magicpig-raise-attention",
                             "-mlir-print-op-on-diagnostic=false"],
                            capture_output=True, text=True, check=True)
    assert "remark:" not in result.stderr, result.stderr
    assert result.stdout.count("magicpig.attention ") == 6
    assert result.stdout.count(" causal window(8) ins(") == 2
    assert result.stdout.count(" causal window(8) lengths(") == 1
    sparsified = subprocess.run([project_tool("magicpig-opt"), "-",
                                 "--magicpig-sparsify=dense-layers=-1",
                                 "-mlir-print-op-on-diagnostic=false"],
                                input=result.stdout, capture_output=True, text=True,
                                check=True)
    remarks = [l for l in sparsified.stderr.splitlines() if "remark:" in l]
    assert len(remarks) == 3, remarks
    assert all("layer 0 keeps exact attention: it attends to a sliding window of 8 keys"
               in r for r in remarks)
