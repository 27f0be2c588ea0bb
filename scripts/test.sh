#!/usr/bin/env bash
# The whole test suite: sets the machine up (Debian packages, the build, the
# Python venv), runs the lit suite and the fast Python tests, and ends with
# one line "N passed, N failed, N skipped" summing both.
#
# The slow real-model and accuracy tests are not part of it:
#   "${MAGICPIG_VENV:-$HOME/.cache/magicpig/venv}/bin/python" -m pytest -m slow python/tests
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MAGICPIG_BUILD_DIR:-$ROOT/build}"
VENV="${MAGICPIG_VENV:-$HOME/.cache/magicpig/venv}"

fail_setup() { echo "[test] $1 failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
bash "$ROOT/scripts/setup.sh" || fail_setup "setup or build"
# MAGICPIG_TEST_PYTHON=0 runs lit alone (scripts/sanitize.sh: an ASan-built
# runtime cannot be loaded into an uninstrumented Python).
RUN_PYTHON="${MAGICPIG_TEST_PYTHON:-1}"
if [[ "$RUN_PYTHON" == 1 ]]; then
  bash "$ROOT/scripts/setup-python.sh" || fail_setup "Python setup"
fi

LIT_LOG="$(mktemp)"
PY_LOG="$(mktemp)"
trap 'rm -f "$LIT_LOG" "$PY_LOG"' EXIT

echo "[test] lit suite"
/usr/lib/llvm-22/bin/lit -v "$BUILD/test" 2>&1 | tee "$LIT_LOG"
lit_status=${PIPESTATUS[0]}

py_status=0
if [[ "$RUN_PYTHON" == 1 ]]; then
  echo "[test] Python tests (fast; the slow ones: pytest -m slow)"
  # PYTHONPATH: test this checkout even when the venv's editable install is another one.
  (cd "$ROOT/python" && PYTHONPATH="$ROOT/python" MAGICPIG_BUILD_DIR="$BUILD" "$VENV/bin/python" -m pytest -q -rfE) 2>&1 | tee "$PY_LOG"
  py_status=${PIPESTATUS[0]}
fi

# lit's summary lines look like "  Passed     : 12 (85.71%)"; absent lines are 0.
lit_count() { local n; n=$(grep -E "^ *$1 *: " "$LIT_LOG" | awk -F': *' '{print $2}' | awk '{print $1}' | head -1); echo "${n:-0}"; }
# pytest's last line looks like "== 3 failed, 57 passed, 7 deselected in 23.1s ==".
py_count() { local n; n=$(tail -1 "$PY_LOG" | grep -oE "[0-9]+ $1" | awk '{print $1}' | head -1); echo "${n:-0}"; }

passed=$(( $(lit_count Passed) + $(lit_count "Expectedly Failed") + $(py_count passed) + $(py_count xfailed) ))
failed=$(( $(lit_count Failed) + $(lit_count "Unexpectedly Passed") + $(lit_count Unresolved) \
           + $(lit_count "Timed Out") + $(py_count failed) + $(py_count "errors?") + $(py_count xpassed) ))
skipped=$(( $(lit_count Unsupported) + $(lit_count Excluded) + $(lit_count Skipped) + $(py_count skipped) ))
status=0
if (( lit_status != 0 || py_status != 0 )); then
  status=1
  # A crashed runner prints no counts: never report such a run as clean.
  (( failed == 0 )) && failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
