#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian 12 machine and
# configures + builds the project. Safe to rerun: installed packages are
# skipped and the build is incremental.
#
#   bash scripts/setup.sh            # install, configure, build into ./build
#   MAGICPIG_BUILD_DIR=dir bash scripts/setup.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MAGICPIG_BUILD_DIR:-$ROOT/build}"
LLVM_PREFIX=/usr/lib/llvm-22

APT_PACKAGES=(libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22
              libomp-22-dev lld-22 clang-tools-22 ninja-build cmake python3 python3-pip)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "[setup] configuring $BUILD"
cmake -G Ninja -S "$ROOT" -B "$BUILD" \
  -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
  -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit" \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DLLVM_USE_LINKER=lld -DCMAKE_BUILD_TYPE="${MAGICPIG_BUILD_TYPE:-Release}" \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  ${MAGICPIG_CMAKE_ARGS:-} >/dev/null

echo "[setup] building"
ninja -C "$BUILD"
