"""Shared fixtures: the package is imported from the source tree, and the
project's tools are found in $MAGICPIG_BUILD_DIR/bin (default build/bin)."""

import os
import sys

import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(PYTHON_DIR)
sys.path.insert(0, PYTHON_DIR)
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def project_tool(name):
    """Path of build/bin/<name> (or $MAGICPIG_BUILD_DIR/bin), None if absent."""
    build = os.environ.get("MAGICPIG_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
    path = os.path.join(build, "bin", name)
    return path if os.access(path, os.X_OK) else None


@pytest.fixture(scope="session")
def tiny():
    """The 2-layer tiny random Llama (hidden 64, 4 q heads, 2 kv heads, d 16)."""
    from magicpig.export import tiny_model

    return tiny_model(num_layers=2)


@pytest.fixture(scope="session")
def tiny_export(tiny, tmp_path_factory):
    """The tiny model exported once (dynamic shapes): the output folder."""
    from magicpig.export import write_export

    out = tmp_path_factory.mktemp("tiny_export")
    write_export(tiny, str(out))
    return out


def write_gpt2_gguf(path):
    """A minimal, well-formed GGUF of an architecture the package does not
    support (gpt2)."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), arch="gpt2")
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return str(path)


# The real model (slow tests only): fetched once per session.
@pytest.fixture(scope="session")
def gguf_path():
    from magicpig.model_store import fetch_model

    return fetch_model()


@pytest.fixture(scope="session")
def model(gguf_path):
    from magicpig.gguf_model import load_llama

    return load_llama(gguf_path)


@pytest.fixture(scope="session")
def tokenizer(gguf_path):
    from magicpig.tokenizer import Tokenizer

    return Tokenizer.from_gguf(gguf_path)
