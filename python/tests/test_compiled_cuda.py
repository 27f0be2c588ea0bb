"""The tiny random Llama compiled with `magicpig-compile --target=cuda`.

Without a GPU (the build machines) the graph runs against the fake CUDA
driver of the lit suite (build/test/mock-cuda/libcuda.so.1: device memory is
host memory, kernels are not executed), in a child process whose
LD_LIBRARY_PATH points at it. That checks what can be checked without a
GPU: the whole model goes through the CUDA pipeline; the library loads its
kernels when opened; prefill and decode run through the C ABI with every
device op allocating, copying, launching and synchronizing. The numbers it
computes are meaningless there and are not looked at.

On a machine with a GPU, the CUDA graph's logits must match the CPU
graph's: same f32 math, other summation orders (block reductions), so the
1e-4 of test_compiled_generation.py, relaxed to 1e-3 for the GPU's
different exp/log (libdevice) and reduction trees.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import PYTHON_DIR, REPO_ROOT, project_tool
from magicpig.options import MagicPigOptions

COMPILER = project_tool("magicpig-compile")
BUILD = os.path.dirname(os.path.dirname(COMPILER)) if COMPILER else None
MOCK_DRIVER = os.path.join(BUILD, "test", "mock-cuda") if BUILD else None
pytestmark = pytest.mark.skipif(
    COMPILER is None or not os.path.isfile(
        os.path.join(BUILD, "lib", "libmagicpig_cuda_runtime.so")),
    reason="magicpig-compile or libmagicpig_cuda_runtime.so not built")

SINK, WINDOW = 4, 16
OPTIONS = MagicPigOptions(sink_tokens=SINK, window_tokens=WINDOW, dense_layers=(0,))
PROMPT, NEW_TOKENS = 80, 3
# format=isa: PTX text, no ptxas needed to build; the driver compiles it.
CHIP = "sm_80"


@pytest.fixture(scope="module")
def model():
    from magicpig.export import tiny_model

    return tiny_model(num_layers=3, seed=5)


@pytest.fixture(scope="module")
def graphs(model, tmp_path_factory):
    """The tiny model exported once, compiled for the GPU (MagicPIG) and,
    for the comparison on a GPU, for the CPU."""
    from magicpig.graph_cache import compile_flags, export_once

    directory = str(tmp_path_factory.mktemp("cuda_graphs"))
    mlir = export_once(model, directory)
    out = {}
    for name, target in [("cuda", "cuda"), ("cpu", "cpu")]:
        library = os.path.join(directory, f"{name}.so")
        flags = compile_flags("magicpig", OPTIONS, target, CHIP)
        if target == "cuda":
            flags.append("--gpu-format=isa")
        subprocess.run([COMPILER, mlir, "-o", library, "--quiet", *flags], check=True)
        out[name] = library
    return out


RUN_GRAPH = """
import sys, numpy as np, torch
from magicpig.backends import CompiledBackend
from magicpig.export import tiny_model
from magicpig.generate import generate_tokens
model = tiny_model(num_layers=3, seed=5)
backend = CompiledBackend(model, sys.argv[1], "magicpig")
info = backend.compiled.info
print("target", info["target"], info["chip"], "sparse layers", backend.compiled.sparse_layers)
ids = torch.randint(0, 256, (int(sys.argv[2]),), generator=torch.Generator().manual_seed(11)).tolist()
tokens, _, _, steps = generate_tokens(backend, ids, int(sys.argv[3]), -1, lambda logits: 7)
print("decode steps", steps, "cache", backend.cache.length)
"""


def test_cuda_graph_runs_through_the_driver_api(graphs):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, LD_LIBRARY_PATH=MOCK_DRIVER)
    result = subprocess.run([sys.executable, "-c", RUN_GRAPH, graphs["cuda"],
                             str(PROMPT), str(NEW_TOKENS)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [
        f"target cuda {CHIP} sparse layers 2",
        f"decode steps {NEW_TOKENS - 1} cache {PROMPT + NEW_TOKENS - 1}"]
    log = result.stderr.splitlines()
    loads = [line for line in log if line.startswith("mock: cuModuleLoadDataEx")]
    launches = [line for line in log if line.startswith("mock: cuLaunchKernel")]
    first_launch = next(i for i, line in enumerate(log) if "cuLaunchKernel" in line)
    # Every kernel module is loaded once, when the library is opened.
    assert loads and all(f".target {CHIP}" in line for line in loads)
    assert all("cuModuleLoad" not in line for line in log[first_launch:])
    # Prefill: the causal attention of the 3 layers and the key SimHash of
    # the 2 sparse ones. Each decode step (magicpig-split-appended-kv): the
    # dense layer attends to the cache and to the new row, then merges (3);
    # a sparse layer hashes the query, attends to the window, merges with
    # the host's estimate, attends to the new row and merges again (5).
    per_decode = 3 + 2 * 5
    assert len(launches) == 3 + 2 + (NEW_TOKENS - 1) * per_decode, "\n".join(launches)


def test_no_driver_is_one_line(graphs):
    """Opening a CUDA graph where there is no driver ends with one line."""
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, LD_LIBRARY_PATH="/nonexistent")
    result = subprocess.run([sys.executable, "-c", RUN_GRAPH, graphs["cuda"], "80", "2"],
                            capture_output=True, text=True, env=env, timeout=300)
    if result.returncode == 0:
        pytest.skip("a CUDA driver is installed system-wide")
    assert result.stderr.strip().splitlines()[-1].startswith(
        "magicpig: CUDA driver not available")


def gpu_count():
    from magicpig.cuda import device_count

    return device_count(COMPILER) or 0


@pytest.mark.skipif(gpu_count() <= 0, reason="needs a CUDA GPU")
def test_cuda_logits_match_the_cpu_graph(model, graphs):
    import torch

    from magicpig.backends import CompiledBackend
    from magicpig.generate import generate_tokens

    ids = torch.randint(0, 256, (PROMPT,),
                        generator=torch.Generator().manual_seed(11)).tolist()
    logits = {}
    for name in ("cpu", "cuda"):
        seen = []
        backend = CompiledBackend(model, graphs[name], "magicpig")

        def choose(step_logits):
            seen.append(step_logits.numpy().copy())
            return int(np.argmax(seen[-1]))

        generate_tokens(backend, ids, 8, -1, choose)
        logits[name] = np.stack(seen)
    assert np.max(np.abs(logits["cuda"] - logits["cpu"])) < 1e-3


PROBE = """
import sys
from magicpig.cuda import device_count
print(device_count(sys.argv[1]))
"""


@pytest.mark.parametrize("driver_dir, expected", [("/nonexistent", "-1"), ("mock", "1")])
def test_device_count_probe(driver_dir, expected):
    """What `--target cuda` checks first: -1 without libcuda.so.1, else the
    driver's device count (the fake driver has one)."""
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR,
               LD_LIBRARY_PATH=MOCK_DRIVER if driver_dir == "mock" else driver_dir)
    result = subprocess.run([sys.executable, "-c", PROBE, COMPILER],
                            capture_output=True, text=True, env=env, timeout=120)
    if driver_dir != "mock" and result.stdout.strip() != "-1" and gpu_count() > 0:
        pytest.skip("a CUDA driver is installed system-wide")
    assert result.stdout.strip() == expected, result.stderr
