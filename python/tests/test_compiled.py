"""The ctypes memref descriptors of magicpig.compiled (docs/CompiledGraphABI.md),
and, when magicpig-compile is built, a compiled tiny model against PyTorch."""

import ctypes
import subprocess

import numpy as np
import pytest
import torch

from conftest import project_tool
from magicpig.compiled import (CompiledModel, descriptor_type, from_descriptor,
                               to_descriptor)
from magicpig.errors import MagicPigError


def test_descriptor_layout():
    desc = descriptor_type(2)
    # allocated, aligned, offset, sizes[2], strides[2]: 7 words.
    assert ctypes.sizeof(desc) == 7 * 8
    assert ctypes.sizeof(descriptor_type(0)) == 3 * 8


@pytest.mark.parametrize("array", [
    np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    np.array(7, dtype=np.int64),
    np.zeros((0, 3), dtype=np.float32),
])
def test_descriptor_round_trip(array):
    desc = to_descriptor(array)
    assert list(getattr(desc, "sizes", [])) == list(array.shape)
    np.testing.assert_array_equal(from_descriptor(desc, array.dtype), array)


def test_strided_descriptor_is_read_with_its_strides():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    desc = to_descriptor(base)
    desc.sizes[1], desc.strides[1] = 2, 2  # every other column
    np.testing.assert_array_equal(from_descriptor(desc, np.float32), base[:, ::2])


def test_missing_library_is_a_one_line_error(tmp_path):
    with pytest.raises(MagicPigError, match="compiled graph not found"):
        CompiledModel(str(tmp_path / "none.so"), None, [])


@pytest.mark.slow
@pytest.mark.skipif(project_tool("magicpig-compile") is None,
                    reason="magicpig-compile not built")
def test_compiled_dense_tiny_model_matches_pytorch(tiny, tiny_export, tmp_path):
    library = tmp_path / "tiny.so"
    subprocess.run([project_tool("magicpig-compile"), "--attention=dense", "--quiet",
                    str(tiny_export / "model.mlir"), "-o", str(library)], check=True)
    compiled = CompiledModel(str(library), tiny.config,
                             [p.detach().numpy() for p in tiny.parameters()])
    tokens = torch.randint(0, 256, (1, 20), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        logits, k, v = tiny.prefill(tokens)
        next_logits, k_new, _ = tiny.decode(tokens[:, :1], 20, k, v)
    c_logits, c_k, c_v, _ = compiled.prefill(tokens.numpy())
    np.testing.assert_allclose(c_logits, logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(c_k, k.numpy(), atol=1e-5)
    d_logits, d_k, _ = compiled.decode(tokens[:, :1].numpy(), 20, c_k, c_v)
    np.testing.assert_allclose(d_logits, next_logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(d_k, k_new.numpy(), atol=1e-5)
