"""magicpig.export on the tiny model: signatures, weights outside the IR,
and (when magicpig-opt is built) what --magicpig-raise-attention finds."""

import json
import re
import subprocess

import pytest
from safetensors.numpy import load_file

from conftest import project_tool

# named_parameters order: embed, final_norm, then each layer's tensors.
WEIGHT_TYPES = (["tensor<256x64xf32>", "tensor<64xf32>"] +
                ["tensor<64xf32>", "tensor<64x64xf32>", "tensor<32x64xf32>",
                 "tensor<32x64xf32>", "tensor<64x64xf32>", "tensor<64xf32>",
                 "tensor<128x64xf32>", "tensor<128x64xf32>", "tensor<64x128xf32>"] * 2)


def signature(mlir, name):
    """([argument types], [result types]) of func.func @name."""
    line = re.search(rf"func\.func @{name}\((.*)\) -> \((.*)\) \{{", mlir)
    assert line, f"no @{name}"
    args = re.findall(r"%arg\d+: (tensor<[^>]*>)", line.group(1))
    return args, re.findall(r"tensor<[^>]*>", line.group(2))


def function_text(mlir, name):
    """The text of func.func @name, up to the next function."""
    start = mlir.index(f"func.func @{name}(")
    end = mlir.find("func.func @", start + 1)
    return mlir[start:end if end >= 0 else len(mlir)]


@pytest.fixture(scope="module")
def mlir(tiny_export):
    return (tiny_export / "model.mlir").read_text()


def test_prefill_signature(mlir):
    args, results = signature(mlir, "prefill")
    assert args == WEIGHT_TYPES + ["tensor<1x?xi64>"]
    assert results == ["tensor<1x256xf32>", "tensor<2x1x2x?x16xf32>",
                       "tensor<2x1x2x?x16xf32>"]


def test_decode_signature(mlir):
    args, results = signature(mlir, "decode")
    assert args == WEIGHT_TYPES + ["tensor<1x1xi64>", "tensor<i64>",
                                   "tensor<2x1x2x?x16xf32>", "tensor<2x1x2x?x16xf32>"]
    assert results == ["tensor<1x256xf32>", "tensor<2x1x2x1x16xf32>",
                       "tensor<2x1x2x1x16xf32>"]


def test_decode_batch_signature(mlir):
    args, results = signature(mlir, "decode_batch")
    assert args == WEIGHT_TYPES + ["tensor<?x1xi64>", "tensor<?xi64>",
                                   "tensor<2x?x2x?x16xf32>", "tensor<2x?x2x?x16xf32>"]
    assert results == ["tensor<?x256xf32>", "tensor<2x?x2x1x16xf32>",
                       "tensor<2x?x2x1x16xf32>"]


def test_weights_are_not_in_the_ir(mlir, tiny):
    assert "dense_resource" not in mlir
    # No constant as large as a weight matrix (64x64 and up).
    assert not re.search(r"arith\.constant dense<.*> : tensor<\d{2,}x\d{2,}x?", mlir)


def test_manifest_and_weights_file_list_the_argument_order(tiny_export, tiny):
    manifest = json.loads((tiny_export / "manifest.json").read_text())
    names = [name for name, _ in tiny.named_parameters()]
    assert [w["name"] for w in manifest["weights"]] == names
    assert manifest["dynamic_shapes"] is True
    assert manifest["format"] == "magicpig-model-export/2"
    assert set(manifest["functions"]) == {"prefill", "decode", "decode_batch"}
    assert manifest["functions"]["decode_batch"]["arguments"][1] == "tokens [B, 1] i64"
    weights = load_file(str(tiny_export / "weights.safetensors"))
    assert set(weights) == set(names)
    assert weights["layers.1.wk"].shape == (32, 64)


@pytest.mark.skipif(project_tool("magicpig-opt") is None, reason="magicpig-opt not built")
def test_raise_attention_finds_every_decode_attention(tiny_export):
    result = subprocess.run([project_tool("magicpig-opt"), "--magicpig-raise-attention",
                             str(tiny_export / "model.mlir")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    decode = function_text(result.stdout, "decode")
    if "magicpig.attention" not in result.stdout:
        pytest.skip("this magicpig-opt raises nothing (pass not built in)")
    assert decode.count("magicpig.attention scale(2.500000e-01) ins") == 2
    # The padding mask of decode_batch becomes each sequence's length.
    batch = function_text(result.stdout, "decode_batch")
    assert batch.count("magicpig.attention scale(2.500000e-01) "
                       "lengths(%arg21 : tensor<?xi64>) ins") == 2


@pytest.mark.skipif(project_tool("magicpig-opt") is None, reason="magicpig-opt not built")
def test_decode_reads_the_cache_in_place(tiny_export):
    """The exported decode appends the new K/V row with torch.cat; sparsify
    (layer 1) and split-appended-kv (layer 0, dense) must find that form, so
    that no concatenation copies the cache: each layer attends to the cache
    and to the new row apart (docs/model-export.md). If the export form
    changes, this fails instead of decode silently copying the cache."""
    result = subprocess.run([project_tool("magicpig-opt"), "--magicpig-raise-attention",
                             "--magicpig-sparsify=dense-layers=0",
                             "--magicpig-split-appended-kv",
                             str(tiny_export / "model.mlir")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in ("decode", "decode_batch"):
        decode = function_text(result.stdout, name)
        assert "magicpig.attention" not in decode
        assert "tensor.concat dim(2)" not in decode
        # Per layer: the window (sparse) or the cache (dense), and the new row.
        assert decode.count("magicpig.window_attention") == 4
        assert decode.count("magicpig.window_attention sink(0)") == 3
        assert decode.count("magicpig.estimate") == 1
        assert decode.count("magicpig.merge") == 3
