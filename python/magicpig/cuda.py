"""Whether graphs compiled with `magicpig-compile --target=cuda` can run here.

Such a graph links libmagicpig_cuda_runtime.so (the mgpu* wrappers), which
loads its kernels into the GPU when the graph is opened and ends the
process with one line if there is no driver. `require_gpu` asks the same
library first, so the generate command can refuse `--target cuda` with a
normal error before exporting and compiling anything.
"""

import ctypes
import os

from magicpig.errors import MagicPigError

RUNTIME = "libmagicpig_cuda_runtime.so"


def runtime_path(compiler):
    """The CUDA runtime library next to `compiler` (<bin>/../lib), where
    magicpig-compile itself finds it."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(compiler))),
                        "lib", RUNTIME)


def device_count(compiler):
    """Usable CUDA devices as the runtime sees them: -1 without a driver
    (libcuda.so.1), 0 when the driver finds none; None without the runtime
    library (a build that found no cuda.h)."""
    path = runtime_path(compiler)
    if not os.path.isfile(path):
        return None
    library = ctypes.CDLL(path)
    library.magicpigCudaDeviceCount.restype = ctypes.c_int32
    return int(library.magicpigCudaDeviceCount())


def require_gpu(compiler):
    count = device_count(compiler)
    if count is None:
        raise MagicPigError(f"--target cuda: this build has no {RUNTIME} (no CUDA "
                            f"headers when it was configured); use --target cpu")
    if count < 0:
        raise MagicPigError("--target cuda: no CUDA driver here (libcuda.so.1 not "
                            "found); use --target cpu")
    if count == 0:
        raise MagicPigError("--target cuda: the CUDA driver finds no GPU; "
                            "use --target cpu")
