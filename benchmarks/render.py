"""Renderer twin benchmark: speed on one core over weighted-sampler scenes, fidelity on the golden pairs.

    python -m benchmarks.render [--n 200] [--no-fidelity] [--json OUT.json]

Prints JSON. Speed: renders/s pinned to one CPU core, over sample_params(n, seed=0, mode="weighted"), at
256×144 and 1024×1024, per quality. Fidelity: every ../shared/golden pair rendered at 1024² and compared at
512² (lum_corr after a σ = 2 px blur, SSIM), per quality, with median and minimum.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.report import emit
from core.helptext import DefaultsHelpFormatter
from core.metrics import match_report
from core.params import sample_params
from core.paths import shared_dir
from core.render import render

QUALITIES = ("exact", "fast", "draft")


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def speed(scenes: list[dict], width: int, height: int, quality: str) -> dict:
    render(scenes[0], width, height, quality=quality)  # compile / warm caches outside the clock
    start = time.perf_counter()
    for params in scenes:
        render(params, width, height, quality=quality)
    elapsed = time.perf_counter() - start
    return {
        "renders_per_s": round(len(scenes) / elapsed, 1),
        "ms_per_render": round(1000 * elapsed / len(scenes), 2),
    }


def fidelity(golden: Path, quality: str) -> dict:
    pairs = {}
    for params_path in sorted(golden.glob("[0-9][0-9][0-9].json")):
        params = json.loads(params_path.read_text())
        target = np.asarray(Image.open(params_path.with_suffix(".png")).convert("RGB"))
        report = match_report(target, render(params, 1024, 1024, quality=quality), lpips=False)
        pairs[params_path.stem] = {"lum_corr": round(report["lum_corr"], 6), "ssim": round(report["ssim"], 6)}
    lum = [p["lum_corr"] for p in pairs.values()]
    ssim = [p["ssim"] for p in pairs.values()]
    return {
        "pairs": pairs,
        "lum_corr_median": statistics.median(lum),
        "lum_corr_min": min(lum),
        "ssim_median": statistics.median(ssim),
        "ssim_min": min(ssim),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="weighted-sampler scenes for the speed test")
    parser.add_argument("--json", help="also write the result to this file")
    parser.add_argument("--no-fidelity", action="store_true", help="speed only (skip the golden pairs)")
    args = parser.parse_args(argv)
    pin_to_one_core()
    scenes = sample_params(args.n, seed=0, mode="weighted")
    result: dict = {"scenes": args.n, "cores": 1, "speed": {}, "fidelity": {}}
    for width, height in ((256, 144), (1024, 1024)):
        for quality in QUALITIES:
            result["speed"][f"{width}x{height}/{quality}"] = speed(scenes, width, height, quality)
            print(
                f"speed {width}x{height} {quality}: {result['speed'][f'{width}x{height}/{quality}']}",
                file=sys.stderr,
            )
    shared = shared_dir()
    if args.no_fidelity:
        result["fidelity"] = {"skipped": "--no-fidelity"}
    elif shared is None:
        result["fidelity"] = {"skipped": "../shared is absent (set BB_SHARED)"}
    else:
        for quality in QUALITIES:
            result["fidelity"][quality] = fidelity(shared / "golden", quality)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
