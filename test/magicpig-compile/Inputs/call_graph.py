"""Loads a compiled graph, prints its target from magicpig_graph_info, and
calls each entry point once on zero inputs: every argument shaped as the
graph info says, dynamic sizes set to --dynamic-size. Prints the shapes of
the results. Only ctypes: runs under lit's own Python."""
import argparse
import ctypes
import json


def descriptor_type(rank):
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
              ("offset", ctypes.c_int64)]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank),
                   ("strides", ctypes.c_int64 * rank)]
    return type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})


def zero_descriptor(shape, keep_alive):
    count = 1
    for n in shape:
        count *= n
    buffer = (ctypes.c_uint32 * max(count, 1))()  # f32/i32 zeros alike
    keep_alive.append(buffer)
    desc = descriptor_type(len(shape))()
    desc.allocated = desc.aligned = ctypes.addressof(buffer)
    stride = 1
    for i in reversed(range(len(shape))):
        desc.sizes[i], desc.strides[i] = shape[i], stride
        stride *= shape[i]
    return desc


parser = argparse.ArgumentParser()
parser.add_argument("library")
parser.add_argument("--dynamic-size", type=int, default=1)
args = parser.parse_args()

lib = ctypes.CDLL(args.library)
address = ctypes.addressof(ctypes.c_char.in_dll(lib, "magicpig_graph_info"))
info = json.loads(ctypes.string_at(address))
print(f"target {info['target']} chip {info.get('chip', '-')}", flush=True)
for name in sorted(info["functions"]):
    function = info["functions"][name]
    keep_alive = []
    arguments = [zero_descriptor([args.dynamic_size if n == -1 else n
                                  for n in a["shape"]], keep_alive)
                 for a in function["arguments"]]
    results_type = type("Results", (ctypes.Structure,), {"_fields_": [
        (f"r{i}", descriptor_type(len(r["shape"])))
        for i, r in enumerate(function["results"])]})
    results = results_type()
    entry = getattr(lib, f"_mlir_ciface_{name}")
    entry.restype = None
    entry(ctypes.byref(results), *[ctypes.byref(d) for d in arguments])
    shapes = [list(getattr(results, f"r{i}").sizes)
              for i in range(len(function["results"]))]
    print(f"called {name}: results {shapes}", flush=True)
