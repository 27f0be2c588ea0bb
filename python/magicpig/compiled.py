"""Load a shared library from `magicpig-compile` and call its entry points.

The C ABI is docs/CompiledGraphABI.md: `_mlir_ciface_<name>` takes a pointer
to a struct of result memref descriptors (when the function has results)
followed by one pointer to a descriptor per memref argument. Result buffers
are malloc'ed by the generated code and owned by the caller: they are copied
into numpy arrays and freed. The model's arguments are those of
docs/model-export.md: the weights, then the step's inputs, then (for a
sparsified graph) the four index buffers of each sparse layer (docs/ABI.md).
The library describes itself (the `magicpig_graph_info` JSON string): its
attention, sparsify options, sparse-layer count and entry-point types, so
the result layout and the weights are checked against the graph.
"""

import ctypes
import ctypes.util
import json
import os

import numpy as np
import torch

from magicpig.elf import incomplete
from magicpig.errors import MagicPigError

_NUMPY_TO_CTYPES = {np.dtype(np.float32): ctypes.c_float,
                    np.dtype(np.int64): ctypes.c_int64,
                    np.dtype(np.int32): ctypes.c_int32}
_libc = ctypes.CDLL(ctypes.util.find_library("c"))
_libc.free.argtypes = [ctypes.c_void_p]
# A failed run-time size check in a graph prints its message with puts and
# aborts, which does not flush: line-buffer the C stdout to keep the message.
_libc.setvbuf.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t]
_libc.setvbuf(ctypes.c_void_p.in_dll(_libc, "stdout"), None, 1, 0)  # 1: _IOLBF

# Lowered memref copies call memrefCopy from MLIR's C runner utils, which
# magicpig-compile links into every graph. It is not preloaded with
# RTLD_GLOBAL: its libLLVM would then interpose the LLVM that torch-mlir
# carries, and a later export in the same process aborts ("Option ...
# registered more than once").


def descriptor_type(rank):
    """The ctypes struct of a rank-`rank` memref descriptor."""
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
              ("offset", ctypes.c_int64)]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
    return type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})


def to_descriptor(array):
    """A descriptor viewing a numpy array (kept alive by the caller): a
    C-contiguous one, or a strided view whose rows are contiguous (for the
    arguments the graph info marks `strided`)."""
    if not array.flags.c_contiguous and not is_row_strided(array):
        raise ValueError("memref arguments must be C-contiguous, or views with "
                         "contiguous rows where the graph accepts strides")
    desc = descriptor_type(array.ndim)()
    desc.allocated = desc.aligned = array.ctypes.data
    desc.offset = 0
    for i, (size, stride) in enumerate(zip(array.shape, array.strides)):
        desc.sizes[i] = size
        desc.strides[i] = stride // array.itemsize
    return desc


def is_row_strided(array):
    """Whether `array` is a view a `strided<[?, ..., ?, 1]>` memref can
    describe: innermost stride one element, the others whole elements."""
    if array.ndim == 0 or array.strides[-1] != array.itemsize:
        return False
    return all(s >= 0 and s % array.itemsize == 0 for s in array.strides)


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

    def __init__(self, library, name, result_specs, strided=()):
        """result_specs: [(rank, numpy dtype)] of the function's results;
        strided: per argument, whether it accepts a strided view (else a
        non-contiguous array is copied into a contiguous one)."""
        try:
            self.function = getattr(library, f"_mlir_ciface_{name}")
        except AttributeError:
            raise MagicPigError(f"{library._name} has no entry point '{name}' "
                                f"(_mlir_ciface_{name})")
        self.function.restype = None
        self.result_specs = result_specs
        self.strided = list(strided)
        self.results_type = type(f"{name}_results", (ctypes.Structure,), {
            "_fields_": [(f"r{i}", descriptor_type(rank))
                         for i, (rank, _) in enumerate(result_specs)]})

    def __call__(self, *arrays, leading=None):
        """Calls with `leading` (BoundArguments: descriptors built once, for
        the weights) followed by `arrays`; returns the results as numpy."""
        first = len(leading.refs) if leading is not None else 0
        arrays = [a if self._accepts_view(first + i, a) else np.ascontiguousarray(a)
                  for i, a in enumerate(arrays)]
        descriptors = [to_descriptor(a) for a in arrays]
        refs = [ctypes.byref(d) for d in descriptors]
        inputs = {a.ctypes.data for a in arrays}
        if leading is not None:
            refs = leading.refs + refs
            inputs |= leading.pointers
        results = self.results_type()
        self.function(ctypes.byref(results), *refs)
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


    def _accepts_view(self, position, array):
        return (position < len(self.strided) and self.strided[position]
                and isinstance(array, np.ndarray) and is_row_strided(array))


class BoundArguments:
    """Descriptors of arrays passed to every call (the weights), built once:
    building ctypes descriptors for SmolLM2's 272 weights takes about 4 ms,
    a sixth of a decode step."""

    def __init__(self, arrays):
        self.arrays = [np.ascontiguousarray(a) for a in arrays]  # kept alive
        self.descriptors = [to_descriptor(a) for a in self.arrays]
        self.refs = [ctypes.byref(d) for d in self.descriptors]
        self.pointers = {a.ctypes.data for a in self.arrays}


# The K/V cache element types a graph takes (--kv-type) as torch dtypes.
CACHE_DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}


def cache_array(tensor):
    """A torch cache tensor (or view) as the numpy array the graph reads:
    bf16, which numpy lacks, as its bit patterns (uint16); no copy."""
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().view(np.uint16)
    return tensor.numpy()


GRAPH_INFO_SYMBOL = "magicpig_graph_info"
_DTYPES = {"f32": np.float32, "i32": np.int32, "i64": np.int64}


def read_graph_info(library, path):
    """The JSON self-description magicpig-compile embeds in a graph
    (docs/CompiledGraphABI.md)."""
    try:
        address = ctypes.addressof(ctypes.c_char.in_dll(library, GRAPH_INFO_SYMBOL))
    except ValueError:
        raise MagicPigError(f"{path} has no {GRAPH_INFO_SYMBOL}: it was not built "
                            f"by this magicpig-compile; rebuild it")
    try:
        info = json.loads(ctypes.string_at(address).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MagicPigError(f"{path}: unreadable {GRAPH_INFO_SYMBOL}: {e}")
    if info.get("format") != "magicpig-graph/1":
        raise MagicPigError(f"{path}: unknown graph format {info.get('format')!r}")
    return info


def result_specs(function, path):
    """[(rank, numpy dtype)] of the results of one function of the graph
    info, for CompiledFunction."""
    specs = []
    for result in function["results"]:
        if result["shape"] is None or result["dtype"] not in _DTYPES:
            raise MagicPigError(f"{path}: a result of type {result} is not supported")
        specs.append((len(result["shape"]), _DTYPES[result["dtype"]]))
    return specs


def entry_point(library, functions, name, path):
    """The CompiledFunction `name` of a loaded graph, laid out from the
    graph info's `functions`."""
    if name not in functions:
        raise MagicPigError(f"{path} has no entry point '{name}'")
    return CompiledFunction(library, name, result_specs(functions[name], path),
                            [a.get("strided", False)
                             for a in functions[name]["arguments"]])


def to_bf16(array):
    """f32 -> bf16 bit patterns (uint16), rounded to nearest even: what a
    graph compiled with --weight-type=bf16 takes for its weight matrices."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
    out = (rounded >> np.uint32(16)).astype(np.uint16)
    nan = np.isnan(array)
    if nan.any():  # rounding could carry a NaN's payload into infinity
        out[nan] = np.uint16(0x7FC0)
    return out


def as_weight(array, dtype):
    """A weight in the element type the graph's argument has (f32 or bf16)."""
    if dtype == "bf16":
        return to_bf16(array)
    return np.ascontiguousarray(array, dtype=np.float32)


def check_weights(names, weights, arguments, path):
    """The weights must be the graph's leading arguments, shape for shape."""
    expected = len(arguments)
    if len(weights) != expected:
        raise MagicPigError(f"the weights do not match the compiled graph {path}: "
                            f"the model has {len(weights)} weight tensors, the "
                            f"graph takes {expected}")
    for i, (name, w, arg) in enumerate(zip(names, weights, arguments)):
        want = arg["shape"]
        if arg["dtype"] not in ("f32", "bf16") or len(want) != w.ndim or any(
                n != -1 and n != m for n, m in zip(want, w.shape)):
            shape = "x".join("?" if n == -1 else str(n) for n in want)
            raise MagicPigError(f"the weights do not match the compiled graph {path}: "
                                f"weight {i} ({name}) is {list(w.shape)}, the graph "
                                f"expects {shape} {arg['dtype']}")


class CompiledModel:
    """prefill/decode of a model compiled by magicpig-compile, with the
    Llama.prefill / Llama.decode contract on numpy arrays, plus the MagicPIG
    index of each sparse layer (docs/ABI.md) and, when the graph returns
    them, the retrieve counts of each decode step."""

    def __init__(self, library_path, weights, names=None):
        if not os.path.isfile(library_path):
            raise MagicPigError(f"compiled graph not found: {library_path} "
                                f"(build it with magicpig-compile)")
        damage = incomplete(library_path)
        if damage:  # dlopen would map it and die of SIGBUS
            raise MagicPigError(f"cannot load {library_path}: a truncated or damaged "
                                f"shared library ({damage}); rebuild it")
        try:
            self.library = ctypes.CDLL(os.path.abspath(library_path))
        except OSError as e:
            raise MagicPigError(f"cannot load {library_path}: {e}")
        self.info = info = read_graph_info(self.library, library_path)
        functions = info["functions"]
        self.prefill_fn = entry_point(self.library, functions, "prefill", library_path)
        self.decode_fn = entry_point(self.library, functions, "decode", library_path)
        # A padded batch per call (docs/ABI.md); graphs of a static export
        # have none.
        self.decode_batch_fn = None
        if "decode_batch" in functions:
            self.decode_batch_fn = entry_point(self.library, functions, "decode_batch",
                                               library_path)
        self.attention = info["attention"]
        self.options = info["options"]
        self.sparse_layers = info["sparse_layers"]
        self.returns_counts = bool(self.options.get("return-counts"))
        weights = [np.asarray(w) for w in weights]
        names = names or [f"#{i}" for i in range(len(weights))]
        # prefill(<weights>, tokens)
        arguments = functions["prefill"]["arguments"][:-1]
        check_weights(names, weights, arguments, library_path)
        self.bound_weights = BoundArguments(
            [as_weight(w, a["dtype"]) for w, a in zip(weights, arguments)])
        # decode(<weights>, token, position, k_cache, v_cache, <index>)
        cache = functions["decode"]["arguments"][len(weights) + 2]
        if cache["dtype"] not in CACHE_DTYPES:
            raise MagicPigError(f"{library_path}: decode's K/V cache has element "
                                f"type {cache['dtype']}; expected one of "
                                f"{', '.join(CACHE_DTYPES)}")
        self.cache_dtype = CACHE_DTYPES[cache["dtype"]]

    def prefill(self, tokens):
        """tokens `[1, N]` -> (logits, k_cache, v_cache, index buffers)."""
        out = self.prefill_fn(np.asarray(tokens, dtype=np.int64),
                              leading=self.bound_weights)
        return out[0], out[1], out[2], out[3:]

    def decode(self, token, position, k_cache, v_cache, index=()):
        """k_cache, v_cache: numpy arrays of the graph's cache type (see
        `cache_array`) -> (logits, k_new, v_new (f32), retrieve counts of
        each sparse layer (`[B, Hq]` i32; empty when the graph does not
        return them))."""
        if len(index) != 4 * self.sparse_layers:
            raise MagicPigError(f"decode needs {4 * self.sparse_layers} index "
                                f"buffers, got {len(index)}")
        out = self.decode_fn(np.asarray(token, dtype=np.int64),
                             np.asarray(position, dtype=np.int64),
                             k_cache, v_cache, *index, leading=self.bound_weights)
        return out[0], out[1], out[2], out[3:]

    def decode_batch(self, tokens, positions, k_cache, v_cache, index=()):
        """One step of a padded batch: tokens `[B, 1]`, positions `[B]`
        (sequence b's cache rows), k_cache, v_cache `[L, B, Hkv, M, d]`,
        the index buffers stacked along B -> (logits `[B, V]`, k_new,
        v_new, retrieve counts), as `decode`."""
        if self.decode_batch_fn is None:
            raise MagicPigError("this graph has no decode_batch (a static export, or "
                                "one from before batched decoding): re-export it")
        if len(index) != 4 * self.sparse_layers:
            raise MagicPigError(f"decode_batch needs {4 * self.sparse_layers} index "
                                f"buffers, got {len(index)}")
        # A size the graph's run-time checks reject would abort the process:
        # the batch sizes are checked here first.
        positions = np.asarray(positions, dtype=np.int64).reshape(-1)
        tokens = np.asarray(tokens, dtype=np.int64).reshape(-1, 1)
        batch = positions.shape[0]
        if (k_cache.shape[1] != batch or v_cache.shape[:4] != k_cache.shape[:4]
                or (batch and (positions.min() < 0 or positions.max() > k_cache.shape[3]))):
            raise MagicPigError(f"positions {positions.tolist()} do not fit a cache of "
                                f"{k_cache.shape[1]} sequences and {k_cache.shape[3]} rows")
        if tokens.shape[0] != batch or any(np.shape(b)[0] != batch for b in index):
            raise MagicPigError(f"decode_batch needs one token and one index row per "
                                f"sequence: {tokens.shape[0]} tokens, index batches "
                                f"{sorted({np.shape(b)[0] for b in index})}, "
                                f"{batch} positions")
        out = self.decode_batch_fn(tokens, positions, k_cache, v_cache, *index,
                                   leading=self.bound_weights)
        return out[0], out[1], out[2], out[3:]

    def new_batch_cache(self, slots=1):
        """An empty BatchCache in the graph's cache type, with room for
        `slots` sequences."""
        from magicpig.batch_cache import BatchCache

        return BatchCache(self.cache_dtype, slots)

    def decode_batch_step(self, tokens, batch):
        """decode_batch over a BatchCache (one token per slot, in slot
        order; a batch of one through `decode`), then each sequence's new
        rows appended -> (logits `[B, V]`, retrieve counts)."""
        if batch.count == 1:
            # One sequence: the batch-1 graph, faster than decode_batch at B = 1
            # (docs/benchmarks.md).
            position, k, v, index = batch.single_arguments()
            logits, k_new, v_new, counts = self.decode(np.reshape(tokens, (1, 1)),
                                                       position, k, v, index)
        else:
            positions, k, v, index = batch.arguments()
            logits, k_new, v_new, counts = self.decode_batch(tokens, positions, k, v,
                                                             index)
        batch.append(k_new, v_new)
        return logits, counts

    def new_cache(self, k, v, capacity):
        """The caller's KVCache of prefill's k, v, in the graph's cache type."""
        from magicpig.kv_cache import KVCache

        return KVCache(torch.from_numpy(k), torch.from_numpy(v), capacity, self.cache_dtype)

    def decode_step(self, token, cache, index=()):
        """decode over `cache` (a KVCache: its filled part passed as strided
        views, nothing copied), then the new rows appended to it ->
        (logits, retrieve counts)."""
        logits, k_new, v_new, counts = self.decode(
            [[token]], cache.length, cache_array(cache.keys()),
            cache_array(cache.values()), index)
        cache.append(torch.from_numpy(k_new), torch.from_numpy(v_new))
        return logits, counts


def load_for_model(model, library, attention=None):
    """`library` bound to the parameters of the PyTorch `model` (in
    named_parameters order), checked to have been compiled with `attention`
    when given."""
    named = list(model.named_parameters())
    compiled = CompiledModel(library, [p.detach().numpy() for _, p in named],
                             [name for name, _ in named])
    if attention and compiled.attention != attention:
        raise MagicPigError(f"{library} was compiled with --attention="
                            f"{compiled.attention}, not {attention}")
    return compiled
