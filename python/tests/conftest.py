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


TINY_LLAMA_METADATA = {  # hidden 16, 4 q heads, 2 kv heads, head dim 4
    "llama.context_length": 64, "llama.embedding_length": 16, "llama.block_count": 1,
    "llama.feed_forward_length": 32, "llama.attention.head_count": 4,
    "llama.attention.head_count_kv": 2, "llama.rope.dimension_count": 4,
    "llama.rope.freq_base": 10000.0, "llama.attention.layer_norm_rms_epsilon": 1e-5,
    "llama.vocab_size": 8,
}


def write_llama_gguf(path, nan_tensor=None, **metadata):
    """A tiny one-layer Llama GGUF (f32 tensors of the shapes of
    TINY_LLAMA_METADATA) whose metadata `metadata` overrides ('.' in a key
    spelled '__'; None drops a key); `nan_tensor`: a tensor holding a NaN."""
    import gguf
    import numpy as np

    values = dict(TINY_LLAMA_METADATA)
    for key, value in metadata.items():
        values["llama." + key.replace("__", ".")] = value
    writer = gguf.GGUFWriter(str(path), arch="llama")
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, float):
            writer.add_float32(key, value)
        elif isinstance(value, int) and value < 0:
            writer.add_int32(key, value)
        else:
            writer.add_uint32(key, value)
    hidden, ffn, vocab, q, kv = 16, 32, 8, 16, 8
    shapes = {"token_embd.weight": (vocab, hidden), "output_norm.weight": (hidden,),
              "blk.0.attn_norm.weight": (hidden,), "blk.0.attn_q.weight": (q, hidden),
              "blk.0.attn_k.weight": (kv, hidden), "blk.0.attn_v.weight": (kv, hidden),
              "blk.0.attn_output.weight": (hidden, q), "blk.0.ffn_norm.weight": (hidden,),
              "blk.0.ffn_gate.weight": (ffn, hidden), "blk.0.ffn_up.weight": (ffn, hidden),
              "blk.0.ffn_down.weight": (hidden, ffn)}
    rng = np.random.default_rng(0)
    for name, shape in shapes.items():
        array = rng.standard_normal(shape).astype(np.float32) * 0.1
        if name == nan_tensor:
            array.flat[3] = np.nan
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return str(path)


def truncated_copy(library, directory, fraction=2):
    """A copy of `library` cut to 1/fraction of its size, as a full disk or
    an interrupted copy leaves it."""
    data = open(library, "rb").read()
    path = os.path.join(str(directory), "truncated-" + os.path.basename(library))
    with open(path, "wb") as f:
        f.write(data[:len(data) // fraction])
    return path


def load_in_subprocess(library):
    """magicpig.compiled.CompiledModel(library) through cli.run_main in a
    fresh interpreter (a bad library may kill it with a signal)."""
    import subprocess

    code = ("import sys\n"
            "from magicpig.cli import run_main\n"
            "from magicpig.compiled import CompiledModel\n"
            "sys.exit(run_main(lambda argv: CompiledModel(sys.argv[1], [])))\n")
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    return subprocess.run([sys.executable, "-c", code, library], capture_output=True,
                          text=True, env=env, timeout=120)


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
