"""`python -m core.refine TARGET.png`: refine with a progress bar; write the best params, render and a
side-by-side comparison.

    python -m core.refine TARGET.png [--start PARAMS.json] [--budget N] [--seconds S]
                          [--method catcma|cma|pycma] [--workers W] [--seed K] [--out-dir D]

Writes D/best_params.json (flat SceneParams), D/best.png (the best render at the target's size, exact
quality), D/side_by_side.png (target | best), D/gap.png (where the match differs: target grey, light it
lacks red, light it adds cyan) and D/report.json (the final match report, the gap analysis and run
figures); prints what is left in words (core.refine.gap) on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.imageio import save_png, to_rgb_float, to_uint8
from core.refine.evaluate import default_workers
from core.refine.gap import gap_picture, gap_report
from core.refine.refiner import (
    DEFAULT_BUDGET_EVALS,
    DEFAULT_BUDGET_SECONDS,
    DEFAULT_METHOD,
    METHODS,
    Refiner,
)
from core.render import render


def side_by_side(left: np.ndarray, right: np.ndarray, gap: int = 8) -> np.ndarray:
    """Two same-height uint8 images with a black gap between them."""
    h = left.shape[0]
    return np.concatenate([left, np.zeros((h, gap, 3), np.uint8), right], axis=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.refine",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", help="target image (PNG, any size)")
    parser.add_argument("--start", help="start params JSON (flat or Leva-prefixed); default: sampler's best")
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET_EVALS, help="evaluations (0: none)")
    parser.add_argument("--seconds", type=float, default=DEFAULT_BUDGET_SECONDS, help="wall time (0: none)")
    parser.add_argument("--method", choices=sorted(METHODS), default=DEFAULT_METHOD)
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="scoring processes (default: 2, or 1 on one core)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--supersample", type=int, default=1, help="render candidates at k× the working size, averaged down"
    )
    parser.add_argument("--out-dir", default="refine-out")
    args = parser.parse_args(argv)

    target = to_rgb_float(args.target)
    start = json.loads(Path(args.start).read_text()) if args.start else None
    refiner = Refiner(
        target,
        start,
        budget_evals=args.budget or None,
        budget_seconds=args.seconds or None,
        method=args.method,
        seed=args.seed,
        workers=args.workers,
        supersample=args.supersample,
    )
    final = None
    with tqdm(total=args.budget or None, unit="eval", file=sys.stderr) as bar:
        try:
            for event in refiner.run():
                bar.update(event.evaluations - bar.n)
                bar.set_postfix(best_loss=f"{event.best_loss:.4f}")
                final = event
        except KeyboardInterrupt:  # the generator is closed; rerun for a result, or use Refiner.cancel
            print("interrupted", file=sys.stderr)
            return 130
    assert final is not None and final.done
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "best_params.json").write_text(json.dumps(final.best_params, indent=2) + "\n")
    h, w = target.shape[:2]
    best = render(final.best_params, w, h, quality="exact")
    save_png(best, out / "best.png")
    save_png(side_by_side(to_uint8(target), best), out / "side_by_side.png")
    save_png(gap_picture(target, best), out / "gap.png")
    gap = gap_report(target, best, final.best_params)
    print(f"What is left: {gap['ceiling']}", file=sys.stderr)
    summary = {
        "target": str(args.target),
        "method": final.method,
        "evaluations": final.evaluations,
        "elapsed_s": round(final.elapsed, 2),
        "stop_reason": final.stop_reason,
        "best_loss": final.best_loss,
        "report": final.best_report,
        "gap": gap,
    }
    (out / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "gap"}))
    return 0
