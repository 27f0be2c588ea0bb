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
