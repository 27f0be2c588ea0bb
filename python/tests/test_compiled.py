"""The ctypes memref descriptors of magicpig.compiled (docs/CompiledGraphABI.md)
and its errors on libraries it cannot use. The compiled tiny model against
PyTorch is test_compiled_generation.py."""

import ctypes

import numpy as np
import pytest

from conftest import load_in_subprocess, truncated_copy
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
        CompiledModel(str(tmp_path / "none.so"), [])


def system_library():
    """libm's path, or skip."""
    import ctypes.util

    libm = ctypes.util.find_library("m")
    path = next((p for p in ("/lib/x86_64-linux-gnu/" + (libm or ""),
                             "/usr/lib/x86_64-linux-gnu/" + (libm or ""))
                 if libm and __import__("os").path.isfile(p)), None)
    if path is None:
        pytest.skip("no libm to load")
    return path


def test_library_without_graph_info(tmp_path):
    """A shared library that magicpig-compile did not build."""
    with pytest.raises(MagicPigError, match="has no magicpig_graph_info"):
        CompiledModel(system_library(), [])


def test_truncated_library_is_a_one_line_error(tmp_path):
    """dlopen maps a truncated library and dies of SIGBUS on its missing
    pages, without a message: the ELF tables are checked first.
    (test_compiled_generation.py does this with a compiled graph.)"""
    library = system_library()
    for fraction in (2, 50):
        result = load_in_subprocess(truncated_copy(library, tmp_path, fraction))
        assert result.returncode == 2, (result.returncode, result.stderr)
        assert result.stderr.startswith("error: cannot load ")
        assert "truncated or damaged shared library" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_truncated_elf_header(tmp_path):
    from magicpig.elf import incomplete

    assert incomplete(system_library()) is None
    path = truncated_copy(system_library(), tmp_path, 10 ** 9)  # empty
    assert incomplete(path) is None  # not ELF at all: dlopen says so itself
    data = open(system_library(), "rb").read()
    for size in (8, 40):
        (tmp_path / "short.so").write_bytes(data[:size])
        assert "ELF header is cut short" in incomplete(str(tmp_path / "short.so"))


def test_corrupt_library_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.so"
    bad.write_bytes(b"not an ELF file")
    with pytest.raises(MagicPigError, match="cannot load .*bad.so"):
        CompiledModel(str(bad), [])
