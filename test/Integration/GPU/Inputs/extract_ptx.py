#!/usr/bin/env python3
"""Writes the PTX of every gpu.binary of an MLIR file (format=isa) to a folder.

    extract_ptx.py INPUT.mlir OUTDIR [--ptxas PTXAS --arch sm_90]

Each `gpu.binary @name [#gpu.object<..., assembly = "...">]` becomes
OUTDIR/name.ptx (MLIR escapes the text as \\XX hex bytes). With --ptxas, each
file is also assembled (ptxas -arch ARCH), and "ptxas: NAME ok" is printed
per kernel module; the script fails on the first rejected module.
"""
import argparse
import os
import re
import subprocess
import sys

BINARY = re.compile(r'gpu\.binary @([A-Za-z0-9_]+)\s.*?assembly = "((?:[^"\\]|\\.)*)"')


def unescape(text):
    return re.sub(r"\\([0-9A-Fa-f]{2})|\\\\",
                  lambda m: chr(int(m.group(1), 16)) if m.group(1) else "\\",
                  text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("outdir")
    parser.add_argument("--ptxas")
    parser.add_argument("--arch", default="sm_90")
    args = parser.parse_args()

    with open(args.input) as f:
        modules = BINARY.findall(f.read())
    if not modules:
        sys.exit("extract_ptx: no gpu.binary with PTX assembly in " + args.input)
    os.makedirs(args.outdir, exist_ok=True)
    for name, escaped in modules:
        path = os.path.join(args.outdir, name + ".ptx")
        with open(path, "w") as f:
            f.write(unescape(escaped))
        print("extracted:", name)
        if args.ptxas:
            cubin = os.path.join(args.outdir, name + ".cubin")
            result = subprocess.run(
                [args.ptxas, "-arch=" + args.arch, path, "-o", cubin],
                capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit("ptxas rejected %s:\n%s" % (name, result.stderr))
            print("ptxas: %s ok" % name)


if __name__ == "__main__":
    main()
