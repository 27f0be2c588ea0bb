#!/usr/bin/env bash
# Builds the project with GCC (the machine's c++, not clang) and runs the lit
# suite with that build: the generated IR must not depend on the host
# compiler. The default suite guards the known cause statically
# (test/lint/eval-order.test); this is the end-to-end check, about 20-30
# minutes of 2 cores, so it is a separate CI step, not part of scripts/test.sh.
#
#   bash scripts/check-gcc.sh        # build into ./build-gcc, run lit, summary line
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MAGICPIG_GCC_BUILD_DIR:-$ROOT/build-gcc}"
LLVM_PREFIX=/usr/lib/llvm-22

# The Debian packages of the clang build (scripts/setup.sh) plus g++.
bash "$ROOT/scripts/setup.sh" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
if ! command -v g++ >/dev/null; then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get install -y -qq g++ >/dev/null
fi

echo "[check-gcc] configuring $BUILD with $(g++ --version | head -1)"
cmake -G Ninja -S "$ROOT" -B "$BUILD" \
  -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
  -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit" \
  -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
  -DCMAKE_BUILD_TYPE=Release ${MAGICPIG_CMAKE_ARGS:-} >/dev/null \
  || { echo "0 passed, 1 failed"; exit 1; }
echo "[check-gcc] building"
ninja -C "$BUILD" || { echo "0 passed, 1 failed"; exit 1; }
echo "[check-gcc] lit suite"
exec "$LLVM_PREFIX/bin/lit" -sv "$BUILD/test"
