#!/usr/bin/env bash
# Builds the project's tools and runtime with AddressSanitizer and
# UndefinedBehaviorSanitizer into build-asan and runs the lit suite with them
# (the suite's invalid-input tests then double as sanitizer tests, and its
# mutation fuzzer, test/fuzz, fuzzes the instrumented magicpig-opt). Not part
# of the default suite: it builds a second tree.
#
#   bash scripts/sanitize.sh
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MAGICPIG_BUILD_DIR="${MAGICPIG_BUILD_DIR:-$ROOT/build-asan}"
export MAGICPIG_BUILD_TYPE=RelWithDebInfo
export MAGICPIG_CMAKE_ARGS="-DLLVM_USE_SANITIZER=Address;Undefined"
# LLVM's static libraries are not instrumented; leaks in MLIR's global
# registries at exit are not ours.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export MAGICPIG_TEST_PYTHON=0
exec bash "$ROOT/scripts/test.sh"
