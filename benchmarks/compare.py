"""`python -m benchmarks.compare --base A.json [...] --variant B.json [...]`: a change to the refinement,
measured against the code before it, from `benchmarks.refine` JSON files.

Why: one seed's medians move by about as much as a change does (README, seed noise), so a verdict needs the
same targets and seeds on both sides, each run's change, how many runs went up and down, and each target's
mean over seeds. Each side may be several files (one per seed, or the references run apart): their runs
are merged by (target, start kind, seed). Only runs present on both sides are compared.

Prints JSON (and writes it with --json): per group (synthetic, references) the medians of each side per
seed and over each target's seed mean, the runs at or above the lum_corr bar, the runs up / down (by more
than --tolerance lum_corr) with the mean change; and every run's figures on both sides.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from benchmarks.refine import FIGURES, target_group
from benchmarks.report import emit
from core.helptext import DefaultsHelpFormatter

BAR = 0.95
"""Issue 5's synthetic lum_corr bar: the runs at or above it are counted."""

RunKey = tuple[str, str, int]
"""(target, start kind, seed)."""


class CompareError(ValueError):
    """A file that is not a benchmarks.refine result, or sides with nothing in common."""


def runs_of(results: Iterable[Mapping[str, Any]]) -> dict[RunKey, dict[str, float]]:
    """Every run's refined figures in benchmarks.refine results, keyed by (target, kind, seed).

    A file run with one seed keys its rows by the kind alone ("guess"); with several, "guess/seed1"."""
    runs: dict[RunKey, dict[str, float]] = {}
    for result in results:
        if not isinstance(result.get("targets"), dict) or not result.get("seeds"):
            raise CompareError("not a benchmarks.refine result (no 'targets' and 'seeds')")
        only_seed = result["seeds"][0] if len(result["seeds"]) == 1 else None
        for target, rows in result["targets"].items():
            for key, row in rows.items():
                kind, _, seed = key.partition("/seed")
                runs[(target, kind, int(seed) if seed else only_seed)] = {
                    f: row["refined"][f] for f in FIGURES
                }
    return runs


def _medians(runs: Mapping[RunKey, Mapping[str, float]], keys: list[RunKey]) -> dict[str, float]:
    return {f: round(statistics.median(runs[k][f] for k in keys), 4) for f in FIGURES}


def _seed_mean_medians(runs: Mapping[RunKey, Mapping[str, float]], keys: list[RunKey]) -> dict[str, float]:
    per_target: dict[tuple[str, str], list[RunKey]] = defaultdict(list)
    for key in keys:
        per_target[key[:2]].append(key)
    return {
        f: round(statistics.median(statistics.mean(runs[k][f] for k in ks) for ks in per_target.values()), 4)
        for f in FIGURES
    }


def compare(
    base: Mapping[RunKey, Mapping[str, float]],
    variant: Mapping[RunKey, Mapping[str, float]],
    tolerance: float = 0.001,
) -> dict[str, Any]:
    """The comparison described in the module docstring, over the runs both sides have."""
    common = sorted(set(base) & set(variant))
    if not common:
        raise CompareError("the two sides share no run (same targets, start kind and seed)")
    out: dict[str, Any] = {"runs": len(common), "groups": {}, "per_run": []}
    for group in ("synthetic", "references"):
        keys = [k for k in common if target_group(k[0]) == group]
        if not keys:
            continue
        changes = [variant[k]["lum_corr"] - base[k]["lum_corr"] for k in keys]
        seeds = sorted({k[2] for k in keys})
        out["groups"][group] = {
            "runs": len(keys),
            "lum_corr_up": sum(d > tolerance for d in changes),
            "lum_corr_down": sum(d < -tolerance for d in changes),
            "lum_corr_mean_change": round(statistics.mean(changes), 4),
            "per_seed": {
                str(seed): {
                    side: {
                        **_medians(runs, [k for k in keys if k[2] == seed]),
                        f"runs_at_{BAR}": sum(runs[k]["lum_corr"] >= BAR for k in keys if k[2] == seed),
                    }
                    for side, runs in (("base", base), ("variant", variant))
                }
                for seed in seeds
            },
            "seed_mean": {
                side: _seed_mean_medians(runs, keys) for side, runs in (("base", base), ("variant", variant))
            },
        }
    for target, kind, seed in common:
        key = (target, kind, seed)
        out["per_run"].append(
            {
                "target": target,
                "kind": kind,
                "seed": seed,
                "base": dict(base[key]),
                "variant": dict(variant[key]),
                "lum_corr_change": round(variant[key]["lum_corr"] - base[key]["lum_corr"], 4),
            }
        )
    return out


def _load(paths: list[str]) -> dict[RunKey, dict[str, float]]:
    results = []
    for path in paths:
        try:
            results.append(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise CompareError(f"{path}: {exc}") from None
    return runs_of(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare",
        description=__doc__,
        formatter_class=DefaultsHelpFormatter,
    )
    parser.add_argument("--base", nargs="+", required=True, help="benchmarks.refine JSON of the code before")
    parser.add_argument("--variant", nargs="+", required=True, help="benchmarks.refine JSON of the change")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.001,
        help="a run's lum_corr change counted as up or down above this",
    )
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    try:
        result = compare(_load(args.base), _load(args.variant), args.tolerance)
    except CompareError as exc:
        print(f"benchmarks.compare: {exc}", file=sys.stderr)
        return 2
    result["base"], result["variant"] = args.base, args.variant
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
