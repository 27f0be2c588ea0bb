"""Calls the C entry point of a compiled axpy through its memref descriptors."""
import array
import ctypes
import sys


class MemRef1D(ctypes.Structure):
    _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                ("offset", ctypes.c_int64), ("size", ctypes.c_int64),
                ("stride", ctypes.c_int64)]


def descriptor(buffer):
    address, length = buffer.buffer_info()
    return MemRef1D(address, address, 0, length, 1)


lib = ctypes.CDLL(sys.argv[1])
x = array.array("f", [0, 1, 2, 3, 4])
y = array.array("f", [1, 1, 1, 1, 1])
dx, dy = descriptor(x), descriptor(y)
lib._mlir_ciface_axpy(ctypes.c_float(2.0), ctypes.byref(dx), ctypes.byref(dy))
print(" ".join(f"{v:g}" for v in y))
