"""Load a shared library from `magicpig-compile` and call its entry points.

The C ABI is docs/CompiledGraphABI.md: `_mlir_ciface_<name>` takes a pointer
to a struct of result memref descriptors (when the function has results)
followed by one pointer to a descriptor per memref argument. Result buffers
are malloc'ed by the generated code and owned by the caller: they are copied
into numpy arrays and freed. The model's arguments are those of
docs/model-export.md: the weights, then the step's inputs, then (for a
sparsified graph) the four index buffers of each sparse layer (docs/ABI.md).
"""

import ctypes
import ctypes.util
import os

import numpy as np

from magicpig.errors import MagicPigError

_NUMPY_TO_CTYPES = {np.dtype(np.float32): ctypes.c_float,
                    np.dtype(np.int64): ctypes.c_int64,
                    np.dtype(np.int32): ctypes.c_int32}
_libc = ctypes.CDLL(ctypes.util.find_library("c"))
_libc.free.argtypes = [ctypes.c_void_p]

# Lowered memref copies call memrefCopy from MLIR's C runner utils; a graph
# linked without it still loads when the utils are already global.
RUNNER_UTILS = "/usr/lib/llvm-22/lib/libmlir_c_runner_utils.so"


def _load_runner_utils():
    if os.path.isfile(RUNNER_UTILS):
        ctypes.CDLL(RUNNER_UTILS, mode=ctypes.RTLD_GLOBAL)


def descriptor_type(rank):
    """The ctypes struct of a rank-`rank` memref descriptor."""
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
              ("offset", ctypes.c_int64)]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
    return type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})


def to_descriptor(array):
    """A descriptor viewing a C-contiguous numpy array (kept alive by the
    caller)."""
    if not array.flags.c_contiguous:
        raise ValueError("memref arguments must be C-contiguous")
    desc = descriptor_type(array.ndim)()
    desc.allocated = desc.aligned = array.ctypes.data
    desc.offset = 0
    for i, (size, stride) in enumerate(zip(array.shape, array.strides)):
        desc.sizes[i] = size
        desc.strides[i] = stride // array.itemsize
    return desc


def from_descriptor(desc, dtype):
    """Copy of the memref a descriptor describes, as a numpy array."""
    rank = len(desc.sizes) if hasattr(desc, "sizes") else 0
    sizes = [desc.sizes[i] for i in range(rank)]
    strides = [desc.strides[i] for i in range(rank)]
    dtype = np.dtype(dtype)
    if any(s == 0 for s in sizes):
        return np.zeros(sizes, dtype=dtype)
    span = 1 + sum((n - 1) * s for n, s in zip(sizes, strides))
    base = ctypes.cast(desc.aligned + desc.offset * dtype.itemsize,
                       ctypes.POINTER(_NUMPY_TO_CTYPES[dtype]))
    flat = np.ctypeslib.as_array(base, shape=(span,))
    view = np.lib.stride_tricks.as_strided(
        flat, shape=sizes, strides=[s * dtype.itemsize for s in strides])
    return np.array(view, copy=True)


class CompiledFunction:
    """One `_mlir_ciface_<name>` entry point with memref results and arguments."""

    def __init__(self, library, name, result_specs):
        """result_specs: [(rank, numpy dtype)] of the function's results."""
        try:
            self.function = getattr(library, f"_mlir_ciface_{name}")
        except AttributeError:
            raise MagicPigError(f"{library._name} has no entry point '{name}' "
                                f"(_mlir_ciface_{name})")
        self.function.restype = None
        self.result_specs = result_specs
        self.results_type = type(f"{name}_results", (ctypes.Structure,), {
            "_fields_": [(f"r{i}", descriptor_type(rank))
                         for i, (rank, _) in enumerate(result_specs)]})

    def __call__(self, *arrays):
        arrays = [np.ascontiguousarray(a) for a in arrays]
        descriptors = [to_descriptor(a) for a in arrays]
        results = self.results_type()
        self.function(ctypes.byref(results), *[ctypes.byref(d) for d in descriptors])
        inputs = {a.ctypes.data for a in arrays}
        outputs, freed = [], set()
        for i, (_, dtype) in enumerate(self.result_specs):
            desc = getattr(results, f"r{i}")
            outputs.append(from_descriptor(desc, dtype))
            # A result may alias an argument or another result: free each
            # buffer the graph allocated exactly once.
            if desc.allocated and desc.allocated not in inputs | freed:
                _libc.free(desc.allocated)
                freed.add(desc.allocated)
        return outputs


class CompiledModel:
    """prefill/decode of a model compiled by magicpig-compile, with the
    Llama.prefill / Llama.decode contract on numpy arrays."""

    def __init__(self, library_path, config, weights, sparse_layers=0):
        if not os.path.isfile(library_path):
            raise MagicPigError(f"compiled graph not found: {library_path} "
                                f"(build it with magicpig-compile)")
        _load_runner_utils()
        try:
            self.library = ctypes.CDLL(os.path.abspath(library_path))
        except OSError as e:
            raise MagicPigError(f"cannot load {library_path}: {e}")
        self.weights = [np.ascontiguousarray(w, dtype=np.float32) for w in weights]
        self.sparse_layers = sparse_layers
        cache = (5, np.float32)
        # The four index buffers per sparse layer: offsets, indices (i32),
        # norms, mean (f32), see docs/ABI.md.
        index = [(4, np.int32), (4, np.int32), (3, np.float32), (3, np.float32)]
        self.prefill_fn = CompiledFunction(
            self.library, "prefill", [(2, np.float32), cache, cache] + index * sparse_layers)
        self.decode_fn = CompiledFunction(
            self.library, "decode", [(2, np.float32), cache, cache])

    def prefill(self, tokens):
        """tokens `[1, N]` -> (logits, k_cache, v_cache, index buffers)."""
        out = self.prefill_fn(*self.weights, np.asarray(tokens, dtype=np.int64))
        return out[0], out[1], out[2], out[3:]

    def decode(self, token, position, k_cache, v_cache, index=()):
        """-> (logits, k_new, v_new)."""
        return tuple(self.decode_fn(*self.weights, np.asarray(token, dtype=np.int64),
                                    np.asarray(position, dtype=np.int64),
                                    k_cache, v_cache, *index))
