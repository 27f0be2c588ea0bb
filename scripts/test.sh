#!/usr/bin/env bash
# The whole test suite: sets the machine up, builds, runs the lit suite and
# ends with one line "N passed, N failed, N skipped".
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MAGICPIG_BUILD_DIR:-$ROOT/build}"

bash "$ROOT/scripts/setup.sh" || { echo "[test] setup or build failed"; echo "0 passed, 1 failed"; exit 1; }

LOG="$(mktemp)"
/usr/lib/llvm-22/bin/lit -v "$BUILD/test" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}

# lit's summary lines look like "  Passed: 12 (85.71%)"; absent lines are 0.
count() { local n; n=$(grep -E "^ *$1 *: " "$LOG" | awk -F': *' '{print $2}' | awk '{print $1}' | head -1); echo "${n:-0}"; }
passed=$(( $(count Passed) + $(count "Expectedly Failed") ))
failed=$(( $(count Failed) + $(count "Unexpectedly Passed") + $(count Unresolved) + $(count "Timed Out") ))
skipped=$(( $(count Unsupported) + $(count Excluded) + $(count Skipped) ))
rm -f "$LOG"
if (( status != 0 && failed == 0 )); then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
