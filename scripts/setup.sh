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
  if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2> /dev/null; then
    found=$("$PY" -V 2> /dev/null || echo "not found")
    echo "setup: needs Python 3.11 or newer, and '$PY' is ${found}." >&2
    echo "setup: name another with PYTHON=/path/to/python3.11 bash $0" >&2
    exit 1
  fi
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha
# The hash of both requirement files, by Python: macOS has no sha256sum.
want=$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(b"".join(open(f, "rb").read() for f in ("requirements.txt", "requirements-dev.txt"))).hexdigest())')
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
