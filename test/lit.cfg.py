# -*- Python -*-
# lit configuration of the MagicPIG regression tests.

import os
import subprocess
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MAGICPIG"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.magicpig_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%magicpig_src_root", config.magicpig_src_root))
config.substitutions.append(("%magicpig_obj_root", config.magicpig_obj_root))
config.substitutions.append(("%llvm_lib_dir", config.llvm_lib_dir))
# Holds the fake libcuda.so.1 of the CUDA wrapper tests.
config.substitutions.append(
    ("%mock_cuda_dir", os.path.join(config.magicpig_obj_root, "test", "mock-cuda")))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.magicpig_tools_dir, config.llvm_tools_dir]
tools = ["magicpig-opt", "magicpig-compile", "magicpig-run"]
llvm_config.add_tool_substitutions(tools, tool_dirs)


def cuda_gpu_usable():
    """True when a CUDA driver and at least one device can be used here.

    Asks libmagicpig_cuda_runtime.so's own probe, in a child process so that
    lit itself never initializes CUDA (its workers are forked).
    """
    library = os.path.join(config.magicpig_obj_root, "lib",
                           "libmagicpig_cuda_runtime.so")
    if not os.path.exists(library):
        return False
    probe = ("import ctypes, sys; "
             "sys.exit(0 if ctypes.CDLL(sys.argv[1]).magicpigCudaDeviceCount()"
             " > 0 else 1)")
    try:
        return subprocess.run([sys.executable, "-c", probe, library],
                              capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


# Tests of code that calls the mgpu* wrappers (against the fake driver in
# %mock_cuda_dir when no GPU is here) say `REQUIRES: cuda-runtime`: the
# wrappers are built only where cuda.h was found.
if os.path.exists(os.path.join(config.magicpig_obj_root, "lib",
                               "libmagicpig_cuda_runtime.so")):
    config.available_features.add("cuda-runtime")

# Tests that run on a GPU say `REQUIRES: cuda-gpu`.
if cuda_gpu_usable():
    config.available_features.add("cuda-gpu")

# Upstream mlir-opt: the fuzzer (test/fuzz) tells upstream crashes apart with it.
config.substitutions.append(
    ("%mlir_opt", os.path.join(config.llvm_tools_dir, "mlir-opt")))

# The C compiler of the LLVM toolchain, for test drivers of compiled graphs.
config.substitutions.append(
    ("%clang", os.path.join(config.llvm_tools_dir, "clang")))

# Tests that run the CUDA toolkit's ptxas / fatbinary (no GPU needed: the
# CUDA pipeline's format=bin / fatbin, or ptxas on emitted PTX) say
# `REQUIRES: ptxas`.
cuda_toolkit = "/usr/local/cuda"
if all(os.access(os.path.join(cuda_toolkit, "bin", tool), os.X_OK)
       for tool in ("ptxas", "fatbinary")):
    config.available_features.add("ptxas")
config.substitutions.append(("%cuda_toolkit", cuda_toolkit))
# Python scripts that load the project's (instrumented) runtime libraries
# need the ASan runtime loaded first in a sanitizer build (scripts/sanitize.sh).
python = sys.executable
if "Address" in getattr(config, "magicpig_sanitizers", ""):
    asan_runtime = subprocess.run(
        [os.path.join(config.llvm_tools_dir, "clang"),
         "-print-file-name=libclang_rt.asan-x86_64.so"],
        capture_output=True, text=True).stdout.strip()
    python = f"env LD_PRELOAD={asan_runtime} {python}"
# Replaces the plain %python of use_default_substitutions.
config.substitutions = [(k, v) for k, v in config.substitutions if k != "%python"]
config.substitutions.append(("%python", python))

# test/lint: the eval-order check needs clang-query (Debian clang-tools-22);
# the check over the project's sources also needs the build's compile database.
clang_query = os.path.join(config.llvm_tools_dir, "clang-query")
if os.access(clang_query, os.X_OK):
    config.available_features.add("clang-query")
    if os.path.exists(os.path.join(config.magicpig_obj_root, "compile_commands.json")):
        config.available_features.add("compile-database")
