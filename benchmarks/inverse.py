"""Inverse-model benchmark: CPU inference speed, held-out synthetic accuracy, CNN-only match on real targets.

    python -m benchmarks.inverse [--model models/inverse.pt] [--n 100] [--size 512] [--json OUT.json]

Prints JSON. Speed: `predict` on one CPU core (one torch thread, process pinned), preprocessing
included, from a decoded uint8 array (1652×919 Figma size and 1024²) and from a PNG file (decode
included); median and p90 over --repeats calls after a warm-up. Synthetic: `train.evaluate` on
`sample_params(n, BENCH_SEED)` (a seed range no training run uses), the layer setting the model was
trained for. Real targets: ../shared/references/ref.png and figma-00..02.png, CNN prediction only
(no refinement), rendered at the target's aspect, match report at the 512-px working width.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.report import emit
from core.helptext import DefaultsHelpFormatter
from core.imageio import save_png
from core.inverse import load_model, predict
from core.paths import shared_dir
from core.render import get_renderer, render

REAL_TARGETS = ("ref.png", "figma-00.png", "figma-01.png", "figma-02.png")


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    torch.set_num_threads(1)


def timing(model: Any, image: Any, repeats: int) -> dict[str, float]:
    predict(model, image)  # warm-up outside the clock
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(model, image)
        times.append(1000 * (time.perf_counter() - start))
    return {"median_ms": statistics.median(times), "p90_ms": float(np.percentile(times, 90))}


def speed(model: Any, repeats: int) -> dict[str, Any]:
    scene = {"geometry": "ring", "repetitions": 120}
    figma = render(scene, 1652, 919, quality="draft")
    square = render(scene, 1024, 1024, quality="draft")
    with tempfile.TemporaryDirectory() as tmp:
        png = save_png(figma, Path(tmp) / "figma.png")
        from_png = timing(model, png, repeats)
    return {
        "threads": torch.get_num_threads(),
        "array_1652x919": timing(model, figma, repeats),
        "array_1024x1024": timing(model, square, repeats),
        "png_file_1652x919": from_png,
    }


def real_targets(model: Any) -> dict[str, Any]:
    from train.validate import validate_target

    root = shared_dir()
    if root is None:
        return {"skipped": "../shared is absent (set BB_SHARED)"}
    renderer = get_renderer("local", quality="exact")
    out = {}
    for name in REAL_TARGETS:
        path = root / "references" / name
        if not path.exists():
            out[name] = {"skipped": f"{path} is absent"}
            continue
        entry = validate_target(model, path, renderer, None)
        keys = ("ssim", "ssim_black", "ssim_skill", "lum_corr")
        out[name] = {k: entry["report"][k] for k in keys} | {"geometry": entry["params"]["geometry"]}
    return out


def main(argv: list[str] | None = None) -> int:
    from train.evaluate import evaluate
    from train.seeds import BENCH_SEED

    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.inverse",
        description=__doc__.splitlines()[0],
        formatter_class=DefaultsHelpFormatter,
    )
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--n", type=int, default=100, help="held-out synthetic scenes")
    ap.add_argument("--size", type=int, default=512, help="render side for the synthetic match report")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    pin_to_one_core()
    model = load_model(args.model, device="cpu")
    result: dict[str, Any] = {
        "model": str(args.model or "models/inverse.pt"),
        "config": model.config.to_dict(),
        "speed_one_core": speed(model, args.repeats),
    }
    synthetic = evaluate(model, args.n, BENCH_SEED, size=args.size, progress=False)
    result["synthetic"] = {
        "n": args.n,
        "seed": BENCH_SEED,
        "n_layers": synthetic["n_layers"],
        "accuracy": synthetic["accuracy"],
        "match": synthetic["match"],
        "continuous_median_abs_error": synthetic["continuous_median_abs_error"],
    }
    result["real_targets_cnn_only"] = real_targets(model)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
