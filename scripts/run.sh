#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the main job. Until the app lands this renders the project's example
# parameter sets with the local renderer twin into out/ (no server, no download).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
mkdir -p out
for params in references/*.json; do
  [ -e "$params" ] || continue
  name=$(basename "$params" .json)
  .venv/bin/python -m core.render "$params" -o "out/$name.png" --size 1024x1024
done
