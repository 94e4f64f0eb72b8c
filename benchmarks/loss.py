"""Loss benchmark: what one candidate costs refinement's search, render and loss apart, on one core.

    python -m benchmarks.loss [--n 200] [--width 160] [--json OUT]

Prints JSON. Candidates: `--n` weighted-sampler scenes (n_layers 0, a seed range no benchmark target
uses) scored against a held-out synthetic target (benchmarks.refine's first) at the loss's working width.
Per candidate, median over the candidates of the best of three timings: the render at each quality, the
default loss (`ssim_lum`: blur, SSIM, lum_corr) as refinement computes it (OpenCV's filters; `SsimTo`
keeps the target's window statistics) and as scipy's gaussian_filter and skimage's structural_similarity
compute it, the blurs and SSIMs alone, and the largest difference between the two losses' figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter

from benchmarks.refine import synthetic_targets
from benchmarks.report import emit
from core.helptext import DefaultsHelpFormatter
from core.metrics import similarity
from core.params import sample_params
from core.refine.loss import DEFAULT_WIDTH, SsimLumLoss, blur
from core.render import render

CANDIDATE_SEED = 424242


def best_of(fn: Callable[[], Any], repeats: int = 3) -> float:
    """Milliseconds of the fastest of `repeats` calls (the least disturbed by the machine)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000.0 * min(times)


def median_ms(fn: Callable[[Any], Any], items: list[Any]) -> float:
    return round(statistics.median(best_of(lambda item=item: fn(item)) for item in items), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="candidate scenes")
    parser.add_argument("--width", type=int, default=DEFAULT_WIDTH, help="the loss's working width in px")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else None
    if cores:
        os.sched_setaffinity(0, {min(cores)})
    try:
        result = measure(args)
    finally:
        if cores:
            os.sched_setaffinity(0, cores)  # a caller in this process (a test) keeps its cores
    result["command"] = "python -m benchmarks.loss " + " ".join(argv if argv is not None else sys.argv[1:])
    emit(result, args.json)
    return 0


def measure(args: argparse.Namespace) -> dict[str, Any]:
    name, target, _ = synthetic_targets(1)[0]
    loss = SsimLumLoss(target, args.width)
    w, h = loss.size
    scenes = sample_params(args.n, seed=CANDIDATE_SEED, mode="weighted", n_layers=0)
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, one core pinned",
        "target": name,
        "size": [w, h],
        "candidates": args.n,
        "render_ms": {},
    }
    images: dict[str, list[np.ndarray]] = {}
    for quality in ("exact", "fast", "draft"):
        images[quality] = [render(p, w, h, quality=quality) for p in scenes]  # also warms the kernels
        result["render_ms"][quality] = median_ms(lambda p, q=quality: render(p, w, h, quality=q), scenes)

    candidates = images["fast"]
    floats = [c.astype(np.float32) / 255.0 for c in candidates]
    target_blurred = blur(loss.target, loss.sigma)
    blurred = [blur(f, loss.sigma) for f in floats]
    kept = similarity.SsimTo(target_blurred)

    def scipy_blur(image: np.ndarray) -> np.ndarray:
        return gaussian_filter(image, sigma=(loss.sigma, loss.sigma, 0), mode="reflect")

    target_lum = similarity.luminance(target_blurred)  # kept, as the loss before kept it

    def library_loss(candidate: np.ndarray) -> float:
        """The same loss as scipy and skimage compute it (what the search used before)."""
        b = scipy_blur(candidate.astype(np.float32) / 255.0)
        lum = similarity.correlation(target_lum, similarity.luminance(b))
        return (1.0 - similarity.ssim(target_blurred, b)) + (1.0 - lum)

    result["loss_ms"] = {
        "ssim_lum": median_ms(loss, candidates),
        "ssim_lum with scipy's blur and skimage's SSIM": median_ms(library_loss, candidates),
    }
    result["blur_ms"] = {
        "blur": median_ms(lambda f: blur(f, loss.sigma), floats),
        "scipy": median_ms(scipy_blur, floats),
    }
    result["ssim_ms"] = {
        "SsimTo": median_ms(kept, blurred),
        "skimage structural_similarity": median_ms(lambda b: similarity.ssim(target_blurred, b), blurred),
    }
    result["loss_max_difference"] = float(max(abs(loss(c) - library_loss(c)) for c in candidates))
    result["candidate_ms_fast"] = round(result["render_ms"]["fast"] + result["loss_ms"]["ssim_lum"], 3)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
