"""Throughput benchmark: candidates the refinement loop scores per second, per worker count.

    python -m benchmarks.throughput [--n 4] [--seconds 8] [--workers 1,2] [--shared-pool] [--json OUT]

Prints JSON. Each of the first `--n` held-out synthetic targets (benchmarks.refine's) is refined for
`--seconds` from its own sampler draw (seed START_SEED, the sampler's own layer count: the first guesses'
mirror copies are layers too), without the polish or the final report, once per worker count: the same
seeded candidates in the same order, so the counts compare the machinery, not the search. Per run:
evaluations, evaluations per second, and the CPU seconds of this process (the search, and with one worker
the scoring too) and of its pool's workers. The summary gives, per worker count, the median over targets
of evaluations per second and of its ratio to one worker. --shared-pool runs every refinement in the
process's shared pool of its worker count (core.shared_pool), as the app does: the first run per count
starts it, the rest find it warm.

Use it to choose the app's "Worker processes (refine and explore)" on a new machine: more workers pay
while the ratio keeps rising.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import time
from typing import Any

from benchmarks.refine import synthetic_targets
from benchmarks.report import emit
from core.helptext import DefaultsHelpFormatter
from core.params import sample_params
from core.refine import refine_to_end
from core.workers import start_method, usable_cores

START_SEED = 5


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_one(
    target: Any, start: dict[str, Any], workers: int, seconds: float, *, shared_pool: bool = False
) -> dict[str, Any]:
    """One timed refinement: evaluations, their rate, and where the CPU time went."""
    cpu0, children0, t0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    last = refine_to_end(
        target,
        start,
        budget_evals=None,
        budget_seconds=seconds,
        workers=workers,
        polish_evals=0,
        final_report=False,
        shared_pool=shared_pool,
    )
    wall = time.perf_counter() - t0
    return {
        "evaluations": last.evaluations,
        "per_second": round(last.evaluations / wall, 1),
        "wall_s": round(wall, 2),
        "cpu_s_this_process": round(_cpu(resource.RUSAGE_SELF) - cpu0, 2),
        # the OS counts a child's CPU once it has exited: a shared pool's workers live on
        "cpu_s_workers": None if shared_pool else round(_cpu(resource.RUSAGE_CHILDREN) - children0, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--n", type=int, default=4, help="held-out synthetic targets")
    parser.add_argument("--seconds", type=float, default=8.0, help="wall time per run")
    parser.add_argument("--workers", default="1,2", help="comma list of worker counts")
    parser.add_argument(
        "--shared-pool",
        action="store_true",
        help="one pool per worker count for all runs, as the app keeps (core.shared_pool)",
    )
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    if not counts or min(counts) < 1 or args.seconds <= 0 or args.n < 1:
        parser.error("--workers needs counts ≥ 1, --seconds and --n must be positive")
    starts = sample_params(args.n, seed=START_SEED, mode="weighted")
    rows: dict[str, dict[str, Any]] = {}
    for (name, target, _), start in zip(synthetic_targets(args.n), starts, strict=True):
        rows[name] = {
            str(w): run_one(target, start, w, args.seconds, shared_pool=args.shared_pool) for w in counts
        }
        print(name, {w: r["evaluations"] for w, r in rows[name].items()}, file=sys.stderr, flush=True)
    summary: dict[str, Any] = {}
    for w in counts:
        rates = [row[str(w)]["per_second"] for row in rows.values()]
        entry: dict[str, Any] = {"median_per_second": round(statistics.median(rates), 1)}
        if 1 in counts:
            ratios = [row[str(w)]["per_second"] / row["1"]["per_second"] for row in rows.values()]
            entry["median_ratio_to_one_worker"] = round(statistics.median(ratios), 2)
        summary[str(w)] = entry
    result = {
        "command": "python -m benchmarks.throughput " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{platform.machine()}, {usable_cores()} cores",
        "start_method": start_method(),
        "shared_pool": args.shared_pool,
        "seconds": args.seconds,
        "targets": rows,
        "summary": summary,
    }
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
