#!/usr/bin/env bash
# A secondary example (the main job is scripts/generate.sh): sets the
# machine up, builds, then compiles the bundled MagicPIG decode-layer example
# (examples/sparse_decode_layer.mlir) through --magicpig-cpu-pipeline and runs
# it with magicpig-run. It prints, per query head, the sampled output's
# relative L2 error against exact attention, then the fraction of the 4096
# keys that were retrieved.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MAGICPIG_BUILD_DIR:-$ROOT/build}"
bash "$ROOT/scripts/setup.sh"
echo "[example] compiling and running examples/sparse_decode_layer.mlir"
"$BUILD/bin/magicpig-opt" --magicpig-cpu-pipeline "$ROOT/examples/sparse_decode_layer.mlir" \
  | "$BUILD/bin/magicpig-run" -e main -entry-point-result=void -O3 \
  | awk 'NR == 2 { print "relative L2 error per head vs exact attention: " $0 }
         NR == 4 { print "fraction of keys retrieved per head:            " $0 }'
