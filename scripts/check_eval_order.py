#!/usr/bin/env python3
"""Finds calls whose arguments create IR in an unspecified order.

C++ leaves the order in which a call's arguments are evaluated to the
compiler (GCC goes right to left, clang left to right). A call such as
`addIndex(b, subIndex(b, x, y), constantIndex(b, 1))` creates its two
argument ops in a compiler-dependent order, so the IR differs between
builds and FileCheck tests fail with one compiler only. This check runs an
AST matcher (clang-query) over the project's sources and lists every call
or constructor with two or more arguments that create ops (a call taking
an OpBuilder, or `create` on one); braced lists are ordered and lambda
arguments run later, so neither counts.

    python3 scripts/check_eval_order.py BUILD_DIR [FILE...]
    python3 scripts/check_eval_order.py --standalone FILE...

BUILD_DIR must hold compile_commands.json (CMAKE_EXPORT_COMPILE_COMMANDS,
set by scripts/setup.sh); without FILEs the project's lib/ and tools/
sources are checked. --standalone parses FILEs as plain C++17 with no
compile database (the checker's own test inputs). Exits 1 and prints
`file:line:col` per call when it finds any; 0 when there are none.
"""

import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

QUERY = r"""
set output diag
set bind-root false
let builderType cxxRecordDecl(isSameOrDerivedFrom("::mlir::OpBuilder"))
let isBuilder expr(hasType(hasUnqualifiedDesugaredType(recordType(hasDeclaration(builderType)))))
let creating expr(anyOf(callExpr(hasAnyArgument(ignoringImplicit(isBuilder)), unless(cxxMemberCallExpr())), cxxMemberCallExpr(on(isBuilder), callee(cxxMethodDecl(hasAnyName("create", "createOrFold"))))))
let creatingArg expr(unless(ignoringImplicit(lambdaExpr())), unless(hasDescendant(lambdaExpr())), anyOf(creating, hasDescendant(creating))).bind("arg")
m expr(anyOf(callExpr(forEachArgumentWithParam(creatingArg, parmVarDecl())), cxxConstructExpr(unless(isListInitialization()), forEachArgumentWithParam(creatingArg, parmVarDecl())))).bind("call")
"""

NOTE = re.compile(r'^(?P<loc>[^:\s]+:\d+:\d+): note: "(?P<name>arg|call)" binds here')


def find_clang_query():
    for name in ("clang-query-22", "clang-query"):
        path = shutil.which(name) or (f"/usr/lib/llvm-22/bin/{name}"
                                      if os.path.exists(f"/usr/lib/llvm-22/bin/{name}") else None)
        if path:
            return path
    sys.exit("check_eval_order: clang-query not found (Debian package clang-tools-22)")


def project_sources(build_dir, root):
    with open(os.path.join(build_dir, "compile_commands.json")) as f:
        entries = json.load(f)
    sources = sorted({os.path.realpath(os.path.join(e["directory"], e["file"]))
                      for e in entries})
    return [s for s in sources if s.startswith(os.path.join(root, "lib") + os.sep)
            or s.startswith(os.path.join(root, "tools") + os.sep)]


def unordered_calls(clang_query, build_dir, query_file, source):
    """The calls in `source` with two or more op-creating arguments."""
    database = ["-p", build_dir] if build_dir else []
    flags = [] if build_dir else ["--", "-std=c++17"]
    run = subprocess.run([clang_query, *database, "-f", query_file, source, *flags],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"clang-query failed on {source}:\n{run.stderr[-2000:]}")
    # Each match prints its "arg" note, then its "call" note.
    args_of = collections.defaultdict(set)
    pending = None
    for line in run.stdout.splitlines():
        m = NOTE.match(line)
        if not m:
            continue
        if m["name"] == "arg":
            pending = m["loc"]
        elif pending is not None:
            # An implicit conversion of a call's result is a constructor
            # call at the same location whose one argument is that call:
            # not an argument list.
            if pending != m["loc"]:
                args_of[m["loc"]].add(pending)
            pending = None
    return sorted(call for call, args in args_of.items() if len(args) >= 2)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    root = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
    if argv[1] == "--standalone":
        build_dir = None
        sources = [os.path.realpath(s) for s in argv[2:]]
    else:
        build_dir = os.path.realpath(argv[1])
        if not os.path.exists(os.path.join(build_dir, "compile_commands.json")):
            sys.exit(f"check_eval_order: no compile_commands.json in {build_dir}")
        sources = ([os.path.realpath(s) for s in argv[2:]]
                   or project_sources(build_dir, root))
    clang_query = find_clang_query()
    with tempfile.NamedTemporaryFile("w", suffix=".query", delete=False) as f:
        f.write(QUERY)
        query_file = f.name
    try:
        jobs = max(1, min(4, os.cpu_count() or 1))
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            found = list(pool.map(lambda s: unordered_calls(clang_query, build_dir,
                                                            query_file, s), sources))
    finally:
        os.unlink(query_file)
    calls = [c for per_file in found for c in per_file]
    for call in calls:
        path, line, column = call.rsplit(":", 2)
        print(f"{os.path.relpath(path, root)}:{line}:{column}: two or more "
              "arguments create ops in a compiler-dependent order; create "
              "them in statements before the call")
    print(f"check_eval_order: {len(sources)} files, {len(calls)} unordered calls")
    return 1 if calls else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
