#!/usr/bin/env bash
# Set up (scripts/setup.sh) and start the app: Gradio UI at http://127.0.0.1:7860/ with /api/raster beside it.
# Embedded defaults: local renderer twin, models/inverse.pt, SQLite in ./data, the offline proxy judge.
# Extra arguments go to `python -m app` (e.g. --port 8000 --data-dir ~/bb-data).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m app "$@"
