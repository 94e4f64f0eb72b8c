#!/usr/bin/env bash
# Create .venv and install everything the project and its tests need. Safe to rerun (quick when up to date).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing requirements into .venv (first run takes several minutes)"
  if ! .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt > .venv/pip.log 2>&1; then
    grep -v "^WARNING: Location" .venv/pip.log >&2
    echo "setup: pip install failed (full log: .venv/pip.log)" >&2
    exit 1
  fi
  .venv/bin/python -c "import numpy, numba, torch, torchvision, timm, skimage" \
    || { echo "setup: the installed packages do not import" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
