"""Exploration benchmark: evaluations and seconds to the first find ≥ 9 with the PROXY judge, seeded vs
random starts; and the cost of one exploration step (render + proxy judge).

    python -m benchmarks.explore [--runs 5] [--cap 400] [--workers 2] [--step-n 40] [--json OUT]
                                 [--arms seeded,random] [--sigma S] [--method catcma|cma]

Arms (same ExploreConfig, `--runs` starts each, run r uses optimiser seed r):
* seeded — "cnn" when models/inverse.pt loads: the inverse model's reading of ../shared/references/*.png
  (cycled); else "pool": lines of the designer's curated pool (../shared/refs/refs.jsonl) drawn uniformly
  at random (seeded) — the JSON says which under "seeding";
* random — one draw each of the weighted sampler (sample_params(…, mode="weighted")).
A run stops at its first find or at `--cap` evaluations (then its figure is censored: reported as null,
counted as the cap in the medians; a median is exact unless a censored run sits in the middle, and the
speedup is then a lower bound). Evaluations count the start's
own evaluation (a start that already scores ≥ 9 takes 1). Seconds: from the run's start (judge ready) to
the find's judgement. The step figure: `--step-n` candidates around a pool seed rendered (256×144, fast)
and judged one after the other in this process; the loop's throughput (with its store writes and render
workers) is reported beside it from the seeded runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.report import emit
from core.explore import ExploreConfig, Explorer, ExtractorChoice, default_extractor
from core.helptext import DefaultsHelpFormatter
from core.judge import Judge, JudgeContext, Judgement, Preference, create_judge
from core.params import sample_params
from core.paths import shared_dir
from core.refine.space import ParamSpace
from core.render import render
from core.store import Store, read_refs
from core.workers import usable_cores

TARGET_EVAL_RATIO = 5.0
TARGET_STEP_MS = 50.0


class TimedJudge(Judge):
    """Delegates to a judge and notes when each judgement returned (perf_counter)."""

    def __init__(self, inner: Judge) -> None:
        self.inner, self.name, self.times = inner, inner.name, []

    @classmethod
    def from_spec(cls, arg: str, **options: Any) -> TimedJudge:
        raise NotImplementedError

    def prepare(self, context: JudgeContext | None = None) -> None:
        self.inner.prepare(context)
        self.t0 = time.perf_counter()

    def score(self, image: Any, context: JudgeContext | None = None) -> Judgement:
        out = self.inner.score(image, context)
        self.times.append(time.perf_counter())
        return out

    def compare(self, candidate: Any, incumbent: Any, context: JudgeContext | None = None) -> Preference:
        return self.inner.compare(candidate, incumbent, context)


def seeded_starts(n: int, extraction: ExtractorChoice) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """("cnn", readings of the references) when the inverse model loads, else ("pool", random pool lines)."""
    shared = shared_dir()
    if shared is None:
        raise SystemExit("../shared is needed (references and refs.jsonl)")
    if extraction.extract is not None:
        from core.imageio import load_image, to_uint8

        refs = sorted((shared / "references").glob("*.png"))
        return "cnn", [
            (f"cnn:{refs[i % len(refs)].name}", extraction.extract(to_uint8(load_image(refs[i % len(refs)]))))
            for i in range(n)
        ]
    lines = list(read_refs(shared / "refs" / "refs.jsonl"))
    picks = np.random.default_rng(2024).choice(len(lines), n, replace=False)
    return "pool", [(f"pool:refs.jsonl#{int(i) + 1}", lines[int(i)].params) for i in picks]


def random_starts(n: int) -> list[tuple[str, dict[str, Any]]]:
    return [(f"weighted:{i}", p) for i, p in enumerate(sample_params(n, seed=7100, mode="weighted"))]


def first_find(
    store: Store, judge: Judge, params: dict[str, Any], config: ExploreConfig, extraction: ExtractorChoice
) -> dict[str, Any]:
    """One run until its first find (or the cap): evaluations, seconds, start score, throughput."""
    seed_id = store.add_seed(params, source="manual")
    timed = TimedJudge(judge)
    explorer = Explorer.start(store, timed, seed_id, config, judge_spec="proxy", extractor=extraction)
    start_score, found = None, None
    for event in explorer.run():
        if event.generation == 0 and event.latest:
            start_score = event.latest[0].score
        if event.new_finds and found is None:
            found = event.new_finds[0]
            explorer.cancel()
    evals = explorer.evaluations
    return {
        "start_score": start_score,
        "evaluations": None if found is None else found.step + 1,
        "seconds": None if found is None else round(timed.times[found.step] - timed.t0, 2),
        "find_score": None if found is None else found.score,
        "evaluations_run": evals,
        "seconds_run": round(timed.times[-1] - timed.t0, 2),
        "ms_per_evaluation": round(1000 * (timed.times[-1] - timed.t0) / max(1, evals), 1),
    }


def censored_median(values: list[float | None], caps: list[float]) -> tuple[float, bool]:
    """Median with unfound runs counted at their cap; exact (True) when no middle value is censored."""
    ordered = sorted(zip(values, caps, strict=True), key=lambda vc: (vc[0] is None, vc[0] or vc[1]))
    n = len(ordered)
    middle = ordered[(n - 1) // 2 : n // 2 + 1]
    value = statistics.mean(v if v is not None else c for v, c in middle)
    return value, all(v is not None for v, _ in middle)


def arm_summary(rows: list[dict[str, Any]], cap: int) -> dict[str, Any]:
    evals, exact = censored_median([r["evaluations"] for r in rows], [cap] * len(rows))
    seconds, seconds_exact = censored_median([r["seconds"] for r in rows], [r["seconds_run"] for r in rows])
    return {
        "found": sum(r["evaluations"] is not None for r in rows),
        "runs": len(rows),
        "median_evaluations": evals,
        "median_evaluations_exact": exact,
        "median_seconds": round(seconds, 2),
        "median_seconds_exact": seconds_exact,
        "rows": rows,
    }


def step_time(judge: Judge, n: int) -> dict[str, Any]:
    """Render + proxy judge, one after the other, for n candidates near a pool seed (ms each, median)."""
    shared = shared_dir()
    assert shared is not None
    seed = next(iter(read_refs(shared / "refs" / "refs.jsonl"))).params
    space = ParamSpace(seed)
    x, c = space.encode(seed)
    rng = np.random.default_rng(0)
    batch = [space.decode(x + rng.normal(0, 0.1, len(x)), c) for _ in range(n)]
    render(batch[0], 256, 144, quality="fast")
    judge.score(render(batch[0], 256, 144, quality="fast"))
    render_ms, judge_ms = [], []
    for params in batch:
        t0 = time.perf_counter()
        image = render(params, 256, 144, quality="fast")
        t1 = time.perf_counter()
        judge.score(image)
        t2 = time.perf_counter()
        render_ms.append(1000 * (t1 - t0))
        judge_ms.append(1000 * (t2 - t1))
    total = [a + b for a, b in zip(render_ms, judge_ms, strict=True)]
    return {
        "n": n,
        "render_ms_median": round(statistics.median(render_ms), 1),
        "judge_ms_median": round(statistics.median(judge_ms), 1),
        "step_ms_median": round(statistics.median(total), 1),
        "step_ms_p90": round(float(np.percentile(total, 90)), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cap", type=int, default=400, help="evaluations per run at most")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--step-n", type=int, default=40)
    parser.add_argument("--arms", default="seeded,random")
    parser.add_argument("--sigma", type=float, default=ExploreConfig.sigma)
    parser.add_argument("--method", choices=("catcma", "cma"), default=ExploreConfig.method)
    parser.add_argument("--json", help="also write the JSON here")
    args = parser.parse_args(argv)

    judge = create_judge("proxy")
    judge.prepare()
    extraction = default_extractor()
    load_before = os.getloadavg()
    result: dict[str, Any] = {
        "judge": judge.name,
        "machine": f"{platform.machine()}, {usable_cores()} cores",
        "load_average_1m_before": round(load_before[0], 2),
        "step": step_time(judge, args.step_n),
    }
    seeding, seeded = seeded_starts(args.runs, extraction)
    result["seeding"] = seeding
    result["extraction"] = extraction.note
    arms = {"seeded": seeded, "random": random_starts(args.runs)}
    config = {"evals": args.cap, "workers": args.workers, "sigma": args.sigma, "method": args.method}
    result["config"] = ExploreConfig(**config).to_dict()
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "data") as store:
        for arm in args.arms.split(","):
            rows = []
            for r, (name, params) in enumerate(arms[arm]):
                row = first_find(store, judge, params, ExploreConfig(**config, rng_seed=r), extraction)
                rows.append({"start": name, **row})
                print(json.dumps({"arm": arm, **rows[-1]}), flush=True)
            result[arm] = arm_summary(rows, args.cap)
    if "seeded" in result and "random" in result:
        ratio = result["random"]["median_evaluations"] / max(1, result["seeded"]["median_evaluations"])
        result["speedup_evaluations"] = round(ratio, 2)
        result["speedup_is_lower_bound"] = not result["random"]["median_evaluations_exact"]
        result["target_speedup_met"] = ratio >= TARGET_EVAL_RATIO
    result["target_step_met"] = result["step"]["step_ms_median"] <= TARGET_STEP_MS
    result["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
