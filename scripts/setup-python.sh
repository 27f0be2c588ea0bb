#!/usr/bin/env bash
# Creates or updates the Python environment of the magicpig package: a venv at
# ${MAGICPIG_VENV:-$HOME/.cache/magicpig/venv} with the pinned packages of
# python/requirements.txt (from PyPI) and the package itself (editable).
# Safe to rerun; returns in about a second when nothing changed.
#
#   bash scripts/setup-python.sh
#   "${MAGICPIG_VENV:-$HOME/.cache/magicpig/venv}/bin/python" -m pytest python/tests
#
# Note: PyPI's Linux torch wheel brings its CUDA libraries (a few GB) even on
# machines without a GPU; the package only uses torch on the CPU.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MAGICPIG_VENV:-$HOME/.cache/magicpig/venv}"
PYTHON="${MAGICPIG_PYTHON:-python3}"
REQUIREMENTS="$ROOT/python/requirements.txt"
STAMP="$VENV/.magicpig-setup"

say() { echo "[setup-python] $*"; }

# What the venv was set up from: the pins, the package metadata, the checkout.
fingerprint() {
  cat "$REQUIREMENTS" "$ROOT/python/pyproject.toml" | sha256sum | cut -d' ' -f1
  echo "$ROOT"
}

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$(fingerprint)" ]]; then
  say "up to date: $VENV"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating venv $VENV"
  mkdir -p "$(dirname "$VENV")"
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    # Debian keeps the venv module in its own package.
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      say "installing python3-venv"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$VENV"
      "$PYTHON" -m venv "$VENV"
    else
      say "error: '$PYTHON -m venv' failed; install python3-venv" >&2
      exit 1
    fi
  fi
fi

say "installing pinned packages from $REQUIREMENTS (the first run downloads torch)"
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
  -q -r "$REQUIREMENTS"
say "installing the magicpig package (editable, from $ROOT/python)"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps -e "$ROOT/python"
"$VENV/bin/python" -c "import magicpig, torch, torch_mlir, gguf, transformers; print('[setup-python] ok: torch', torch.__version__)"
fingerprint > "$STAMP"
say "ready: $VENV"
