#!/usr/bin/env bash
# Create .venv and install everything the project and its tests need. Safe to rerun (quick when up to date).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# Debian's chromium for the app's end-to-end browser test (Playwright drives it; its own browser download
# does not work here). Skipped when present; needs root, as in CI.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "setup: installing chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; } < /dev/null > /tmp/bb-apt.log 2>&1 \
      || { tail -20 /tmp/bb-apt.log >&2; echo "setup: apt-get install chromium failed" >&2;
           [ "${CI:-}" != "true" ] || exit 1; echo "setup: the browser test will skip" >&2; }
  else
    echo "setup: /usr/bin/chromium is absent and this is not root with apt-get: the browser test will skip" >&2
  fi
fi
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
  .venv/bin/python -c "import numpy, numba, torch, torchvision, timm, skimage, skia, pypdfium2" \
    || { echo "setup: the installed packages do not import" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
