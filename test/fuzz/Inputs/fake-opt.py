#!/usr/bin/env python3
"""A stand-in for magicpig-opt and mlir-opt in the fuzzer's self-test.

Lists one project pass in --help and echoes its input piece by piece like
`mlir-opt -split-input-file`, except on a piece that holds a number of ten or
more digits: there it crashes like an LLVM tool (--fake-mode=crash), hangs
(--fake-mode=hang), reports undefined behaviour and exits 1 like a UBSan
build (--fake-mode=ubsan), or carries on (--fake-mode=none).
"""
import os
import re
import sys
import time

args = sys.argv[1:]
mode = next((a.split("=", 1)[1] for a in args if a.startswith("--fake-mode=")), "none")
if "--help" in args:
    print("      --magicpig-fake                  -   A fake project pass")
    sys.exit(0)
inputs = [a for a in args if not a.startswith("-")]
with open(inputs[0]) as f:
    pieces = f.read().split("// -----") if "-split-input-file" in args else [f.read()]
for piece in pieces:
    if re.search(r"\d{10}", piece) and mode != "none":
        if mode == "hang":
            time.sleep(3600)
        if mode == "ubsan":
            sys.stderr.write("Fake.cpp:7:9: runtime error: signed integer overflow\n")
            sys.exit(1)
        sys.stderr.write("PLEASE submit a bug report to https://github.com/llvm/llvm-project/issues/\n"
                         "Stack dump:\n0.\tProgram arguments: fake-opt\n"
                         " #0 0x0000000000000001 llvm::sys::PrintStackTrace(llvm::raw_ostream&, int) (/fake+0x1)\n"
                         " #1 0x0000000000000002 fake::crash() (/fake+0x2)\n")
        sys.stderr.flush()
        os.abort()
    print(piece)
    print("// -----")
