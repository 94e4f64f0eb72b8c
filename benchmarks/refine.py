"""Refinement benchmark: match report and wall time per target, per start, at one budget.

    python -m benchmarks.refine [--n 20] [--budget 3000] [--seconds S] [--method catcma|cma|pycma]
                                [--starts random,perturbed] [--start-from cnn,guess] [--workers 2]
                                [--seeds 0,1] [--json OUT]

Targets: `--n` held-out synthetic scenes (sample_params(…, seed=HELD_OUT_SEED, mode="weighted",
n_layers=0), the first whose 320×180 exact render lights between 1 % and 95 % of its pixels: an all-black
target is matched by anything) rendered at 320×180 exact; the project's own examples references/*.png
("own-<name>": drawn by hand, not by the sampler, exact params known, so perturbed starts work too); and
../shared/references/*.png.

Starts (each refined with the same budget): "random" — no start params: the refiner's own start (the best
of its sampler draws); "perturbed" — a stand-in for a CNN prediction close in parameters: the TRUE
params with every continuous coordinate moved by N(0, PERTURB_SIGMA) of its range and each categorical
swapped to a random option with probability PERTURB_FLIP (synthetic targets only: references have no
true params); "perturbed-guess" — the same perturbed truth handed to core.inverse.guess as the CNN's
prediction (with the bank, the variants and the motifs, raced as the app races): the whole pipeline with a
CNN that close; "cnn" (--start-from cnn) — core.inverse.predict(load_model(), target), its top-k categorical
alternatives as the multi-start's starts; "guess" (--start-from guess) — core.inverse.guess: the CNN, its
runner-up categoricals and the retrieval bank's nearest scenes ranked by rendering, RACE_STARTS of them
raced (Guess.race: the best, the CNN's own, the next best; `--race K` races K; its time counts in
wall_s). Both are skipped with a message when the module, checkpoint or bank is absent.
Each row reports the start's own match and the refined one (reports at 512 px, as everywhere).
`--seeds 0,1`: each start refined once per optimiser seed (rows "kind/seedS"); the summary adds, per start,
the median over targets of each target's mean over seeds and the spread between seeds. One seed's outcome
on a target is chaotic in the seed (README: seed noise), so compare search changes over several.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
import sys
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.report import emit
from core.argtypes import positive_int
from core.atomic import write_text_atomic
from core.helptext import DefaultsHelpFormatter
from core.metrics import match_report
from core.params import sample_params
from core.paths import PROJECT_ROOT, shared_dir
from core.refine import DEFAULT_BUDGET_EVALS, DEFAULT_METHOD, METHODS, ParamSpace, Refiner
from core.refine.alternatives import alternative_starts
from core.refine.loss import DEFAULT_WIDTH
from core.refine.multistart import ROUND_GENERATIONS
from core.refine.polish import POLISH_EVALS
from core.refine.refiner import DEFAULT_BUDGET_SECONDS, MIRROR_COMPLETION, RESTARTS
from core.render import render
from core.workers import usable_cores

HELD_OUT_SEED = 9000
TARGET_SIZE = (320, 180)
LIT_RANGE = (0.01, 0.95)
PERTURB_SIGMA = 0.03
PERTURB_FLIP = 0.15
FIGURES = ("ssim", "ssim_skill", "lum_corr")


def target_group(name: str) -> str:
    """ "synthetic" for a held-out synthetic target's name, "references" for the others: the two groups
    every summary and comparison keeps apart."""
    return "synthetic" if name.startswith("synthetic-") else "references"


def synthetic_targets(n: int) -> list[tuple[str, np.ndarray, dict[str, Any]]]:
    """The first n held-out scenes whose render is neither black nor flooded: (name, image, params)."""
    out = []
    scenes = sample_params(8 * n, seed=HELD_OUT_SEED, mode="weighted", n_layers=0)
    for i, params in enumerate(scenes):
        image = render(params, *TARGET_SIZE, quality="exact")
        lit = float((image.max(axis=2) > 12).mean())
        if LIT_RANGE[0] <= lit <= LIT_RANGE[1]:
            out.append((f"synthetic-{HELD_OUT_SEED}-{i:03d}", image, params))
        if len(out) == n:
            break
    return out


def own_targets() -> list[tuple[str, Path, dict[str, Any]]]:
    """The project's own examples (references/: made by the twin, their exact params beside them), as
    "own-<name>": what the app's user tries first, drawn by hand rather than by the sampler, with a known
    answer."""
    from core.refine.space import complete

    out = []
    for png in sorted((PROJECT_ROOT / "references").glob("*.png")):
        params = png.with_suffix(".json")
        if params.is_file():
            out.append((f"own-{png.stem}", png, complete(json.loads(params.read_text()))))
    return out


def reference_targets() -> list[tuple[str, Path, None]]:
    shared = shared_dir()
    if shared is None:
        print("../shared is absent: reference targets skipped", file=sys.stderr)
        return []
    return [(p.stem, p, None) for p in sorted((shared / "references").glob("*.png"))]


def perturbed(params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The true params moved as a stand-in for a CNN's error (see the module docstring)."""
    space = ParamSpace(params)
    x, c = space.encode(params)
    rng = np.random.default_rng(seed)
    x = x + rng.normal(0.0, PERTURB_SIGMA, len(x))
    flips = rng.random(len(c)) < PERTURB_FLIP
    c = np.where(flips, [rng.integers(k) for k in space.cat_num], c)
    return space.decode(x, c)


def perturbed_start(name: str, truth: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """`perturbed` with an error of its own per target (seeded by its name), so 20 targets are 20 draws
    of a CNN's error, not one error vector applied 20 times."""
    return perturbed(truth, seed=zlib.crc32(name.encode()) + seed)


def cnn_predictor(
    checkpoint: str | None = None,
) -> Callable[[Any], tuple[dict[str, Any], list[dict[str, Any]]]] | None:
    """target → (CNN params, top-k alternative starts) when core.inverse and its checkpoint (default: the
    shipped one) exist, else None with a message (imported lazily: the benchmark runs without torch or a
    trained model)."""
    try:
        inverse = importlib.import_module("core.inverse")
        model = inverse.load_model(checkpoint)
    except Exception as err:  # absent module, absent checkpoint, broken torch: all mean "no CNN here"
        print(
            f"--start-from cnn: no CNN available ({type(err).__name__}: {err}); cnn starts skipped",
            file=sys.stderr,
        )
        return None

    def predict(target: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        prediction = inverse.predict(model, target)
        return prediction.params, alternative_starts(prediction.params, prediction.alternatives)

    return predict


Predictor = Callable[[Any], tuple[dict[str, Any], list[dict[str, Any]]]]


def guess_predictor(
    supersample: int | None = None,
    race: int | None = None,
    checkpoint: str | None = None,
    neighbours: int | None = None,
) -> Predictor | None:
    """target → (best first guess, the `race` guesses to race; None: Guess.race's default, as the app and
    train.validate race): core.inverse.guess with the shipped retrieval bank (the CNN, its runner-up
    categoricals and the bank's `neighbours` nearest scenes, None: the guess's default, ranked by
    rendering)."""
    try:
        inverse = importlib.import_module("core.inverse")
        guessing = importlib.import_module("core.inverse.guess")
        retrieval = importlib.import_module("core.inverse.retrieval")
        model, bank = inverse.load_model(checkpoint), retrieval.load_bank()
    except Exception as err:  # absent module, checkpoint or bank
        print(f"--start-from guess: unavailable ({type(err).__name__}: {err}); skipped", file=sys.stderr)
        return None

    def predict(target: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        more = {} if neighbours is None else {"k_neighbours": neighbours}
        first = guessing.guess(model, target, bank, supersample=supersample, **more)
        return first.params, first.race() if race is None else first.race(race)

    return predict


def perturbed_guess_predictor(supersample: int | None = None) -> Callable[[Any, dict[str, Any]], Any] | None:
    """(target, perturbed truth) → (best first guess, the guesses to race): the perturbed truth handed to
    core.inverse.guess as if it were the CNN's prediction (no runner-up categoricals: the guess's own
    one-categorical changes stand in for them), with the shipped bank, its variants and motifs. What the
    whole pipeline would reach with a CNN that close in parameters."""
    try:
        guessing = importlib.import_module("core.inverse.guess")
        predict_module = importlib.import_module("core.inverse.predict")
        bank = importlib.import_module("core.inverse.retrieval").load_bank()
    except Exception as err:  # absent module or bank
        why = f"{type(err).__name__}: {err}"
        print(f"--starts perturbed-guess: unavailable ({why}); skipped", file=sys.stderr)
        return None

    def predict(target: Any, start: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        prediction = predict_module.Prediction(params=start)
        first = guessing.guess(None, target, bank, prediction=prediction, supersample=supersample)
        return first.params, first.race()

    return predict


def _positions(text: str) -> list[int]:
    """--protect's comma list of race positions, checked when the arguments are parsed."""
    try:
        return [int(i) for i in text.split(",") if i]
    except ValueError:
        raise argparse.ArgumentTypeError(f"a comma list of race positions (0, 1, …), not {text!r}") from None


def _rounded(report: Mapping[str, Any]) -> dict[str, float]:
    return {k: round(float(report[k]), 4) for k in FIGURES}


def start_report(target: Any, params: Mapping[str, Any] | None) -> dict[str, float] | None:
    if params is None:
        return None
    h, w = np.asarray(_image(target)).shape[:2]
    width = min(w, 1024)
    image = render(params, width, round(width * h / w), quality="exact")
    return _rounded(match_report(_image(target), image, lpips=False))


def _image(target: Any) -> Any:
    from core.imageio import to_rgb_float

    return to_rgb_float(target)


def run_one(
    target: Any,
    start: Mapping[str, Any] | None,
    args: argparse.Namespace,
    top_k: list[dict[str, Any]] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    refiner = Refiner(
        target,
        start,
        budget_evals=args.budget,
        budget_seconds=args.seconds or None,
        method=args.method,
        seed=seed,
        workers=args.workers,
        top_k=top_k,
        quality=args.quality,
        sigma=args.sigma,
        working_width=args.width,
        supersample=args.supersample,
        polish_evals=args.polish_evals,
        trials=args.trials,
        protected=args.protect,
        round_generations=args.round_generations,
        restarts=args.restarts,
        mirror_completion=args.mirror_completion,
        loss_options={"w_lum": args.lum_weight},
        preview_every=10**9,
        report_every=10**9,
    )
    final = deque(refiner.run(), maxlen=1)[0]  # only the last event matters here
    assert final.done
    return {
        "completed_axis": refiner.completed_axis,
        "refined": _rounded(final.best_report or {}),
        "loss": round(final.best_loss, 4),
        "evaluations": final.evaluations,
        "wall_s": round(time.perf_counter() - t0, 2),
        "stop_reason": final.stop_reason,
        "best_params": final.best_params,
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows)}
    for k in FIGURES:
        values = [r["refined"][k] for r in rows]
        out[f"median_{k}"] = round(statistics.median(values), 4)
        out[f"min_{k}"] = round(min(values), 4)
    walls = [r["wall_s"] for r in rows]
    out["median_wall_s"], out["max_wall_s"] = round(statistics.median(walls), 2), max(walls)
    return out


def seed_means(per_target: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians over targets of each target's mean over seeds, and the median spread between seeds."""
    out: dict[str, Any] = {"n": len(per_target)}
    for k in FIGURES:
        values = [[r["refined"][k] for r in rows] for rows in per_target]
        out[f"median_{k}"] = round(statistics.median(statistics.mean(v) for v in values), 4)
        out[f"median_spread_{k}"] = round(statistics.median(max(v) - min(v) for v in values), 4)
        out[f"max_spread_{k}"] = round(max(max(v) - min(v) for v in values), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="held-out synthetic targets")
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET_EVALS, help="evaluations per run")
    parser.add_argument(
        "--seconds", type=float, default=DEFAULT_BUDGET_SECONDS, help="wall-time budget per run (0: none)"
    )
    parser.add_argument("--method", choices=sorted(METHODS), default=DEFAULT_METHOD)
    parser.add_argument("--quality", default="fast", help="render quality during the search")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sigma", type=float, default=None, help="initial step (default: the refiner's)")
    parser.add_argument("--width", type=int, default=DEFAULT_WIDTH, help="loss working width in px")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds",
        help="comma list of optimiser seeds (e.g. 0,1): one run per seed, plus the per-target means",
    )
    parser.add_argument(
        "--race", type=int, default=None, help="guess: first guesses raced (default: Guess.race's)"
    )
    parser.add_argument(
        "--neighbours", type=int, default=None, help="guess: the bank's scenes ranked (default: guess's)"
    )
    parser.add_argument(
        "--supersample",
        type=int,
        default=None,
        help="render candidates at k× the working size, averaged down (default: each target's own, "
        "core.refine.supersample)",
    )
    parser.add_argument(
        "--polish-evals",
        type=int,
        default=POLISH_EVALS,
        help="full-size renders the end-of-run polish may score (core.refine.polish; 0: no polish)",
    )
    parser.add_argument(
        "--starts", default="random,perturbed", help="comma list of random, perturbed, perturbed-guess"
    )
    parser.add_argument(
        "--start-from",
        help="comma list: cnn (core.inverse.predict and its runner-up categoricals) and/or guess "
        "(core.inverse.guess: the CNN plus the retrieval bank, ranked by rendering)",
    )
    parser.add_argument("--checkpoint", help="inverse model for --start-from (default: models/inverse.pt)")
    parser.add_argument(
        "--no-references",
        action="store_true",
        help="synthetic targets only (not the project's references/ nor ../shared/references)",
    )
    parser.add_argument(
        "--round-generations",
        type=int,
        default=ROUND_GENERATIONS,
        help="generations per round of the race of first guesses (core.refine.multistart)",
    )
    parser.add_argument(
        "--lum-weight",
        type=float,
        default=1.0,
        help="weight of the loss's (1 - lum_corr) term against (1 - ssim) (core.refine.loss.SsimLumLoss)",
    )
    parser.add_argument(
        "--trials", action="store_true", help="resume dropped starts when the race's leader stalls"
    )
    parser.add_argument(
        "--restarts",
        type=positive_int,
        default=RESTARTS,
        help="segments of the search budget, each a fresh search from the start "
        "(core.refine.refiner.RESTARTS)",
    )
    parser.add_argument(
        "--only",
        help="comma list of target names to run, of those --n and the references give (e.g. "
        "synthetic-9000-012,figma-01): a rerun of a few",
    )
    parser.add_argument(
        "--mirror-completion",
        action=argparse.BooleanOptionalAction,
        default=MIRROR_COMPLETION,
        help="a quarter through, add the mirror copies a symmetric target shows and the match lacks "
        "(core.refine.mirror) and search from there in turns with the run's own search (default: on)",
    )
    parser.add_argument(
        "--protect",
        type=_positions,
        default=[],
        help="comma list of race positions the halving never drops (e.g. 1: the CNN's own start in a "
        "guess race, or the perturbed truth in a perturbed-guess race)",
    )
    parser.add_argument(
        "--json",
        help="also write the result to this file (and, after each target, the results so far to "
        "<file>.partial, deleted at the end)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the targets <--json>.partial holds (a run with the same settings, interrupted) and run "
        "only the rest",
    )
    args = parser.parse_args(argv)

    starts = [s for s in args.starts.split(",") if s]
    unknown = set(starts) - {"random", "perturbed", "perturbed-guess"}
    if unknown:
        parser.error(f"--starts takes random, perturbed and perturbed-guess, not {sorted(unknown)}")
    perturbed_guess = perturbed_guess_predictor(args.supersample) if "perturbed-guess" in starts else None
    if "perturbed-guess" in starts and perturbed_guess is None:
        starts.remove("perturbed-guess")
    predictors = {}
    for kind in filter(None, (args.start_from or "").split(",")):
        if kind not in ("cnn", "guess"):
            parser.error(f"--start-from takes cnn and/or guess, not {kind!r}")
        predictor = (
            cnn_predictor(args.checkpoint)
            if kind == "cnn"
            else guess_predictor(args.supersample, args.race, args.checkpoint, args.neighbours)
        )
        if predictor is not None:
            predictors[kind] = predictor
            starts.append(kind)
    if not starts:  # every start asked for was unavailable (said above): a run would print empty rows
        print("refine benchmark: no start left to run (see above); nothing measured", file=sys.stderr)
        return 2
    targets: list[tuple[str, Any, dict[str, Any] | None]] = list(synthetic_targets(args.n))
    if not args.no_references:
        targets += own_targets() + reference_targets()
    if args.only:
        wanted = set(args.only.split(","))
        missing = wanted - {name for name, *_ in targets}
        if missing:
            parser.error(f"--only names targets this run does not have: {', '.join(sorted(missing))}")
        targets = [t for t in targets if t[0] in wanted]
    result: dict[str, Any] = {
        "command": "python -m benchmarks.refine " + " ".join(argv if argv is not None else sys.argv[1:]),
        "method": args.method,
        "checkpoint": args.checkpoint or "models/inverse.pt",
        "budget_evals": args.budget,
        "budget_seconds": args.seconds,
        "workers": args.workers,
        "quality": args.quality,
        "sigma": args.sigma,
        "working_width": args.width,
        "supersample": "auto" if args.supersample is None else args.supersample,
        "polish_evals": args.polish_evals,
        "neighbours": args.neighbours,
        "trials": args.trials,
        "mirror_completion": args.mirror_completion,
        "round_generations": args.round_generations,
        "restarts": args.restarts,
        "lum_weight": args.lum_weight,
        "protected": args.protect,
        "machine": f"{platform.machine()}, {usable_cores()} cores",
        "perturbed_start": (
            f"STAND-IN for a CNN prediction close in parameters: the true params, continuous coordinates "
            f"+ N(0, {PERTURB_SIGMA}) of each range, each categorical re-drawn with p = {PERTURB_FLIP}"
        ),
        "random_start": "no start params: the refiner starts from the best of its own sampler draws",
        "targets": {},
    }
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    result["seeds"] = seeds

    def row_key(kind: str, seed: int) -> str:
        return kind if len(seeds) == 1 else f"{kind}/seed{seed}"

    keys = [row_key(kind, seed) for kind in starts for seed in seeds]
    partial = Path(f"{args.json}.partial") if args.json else None
    if args.resume:
        if partial is None:
            parser.error("--resume needs the --json of the run to resume")
        result["targets"] = finished_targets(partial, result)
        if result["targets"]:
            print(f"resuming {partial}: {len(result['targets'])} targets done", file=sys.stderr)
    for name, target, truth in targets:
        if name in result["targets"]:
            continue
        rows: dict[str, Any] = {}
        for kind in starts:
            top_k = None
            if kind.startswith("perturbed"):
                if truth is None:
                    continue
                start = perturbed_start(name, truth, seeds[0])
            t0 = time.perf_counter()
            if kind in predictors:
                start, top_k = predictors[kind](target)
            elif kind == "perturbed-guess" and perturbed_guess is not None:
                start, top_k = perturbed_guess(target, start)
            elif kind != "perturbed":
                start = None
            predict_s = time.perf_counter() - t0
            start_figures = start_report(target, start)
            for seed in seeds:  # the start is the same for every seed: only the optimiser's draws differ
                key = row_key(kind, seed)
                row = run_one(target, start, args, top_k, seed)
                row["predict_s"] = round(predict_s, 2)
                row["wall_s"] = round(row["wall_s"] + predict_s, 2)  # the first guess is part of the cost
                row["start"] = start_figures
                rows[key] = row
                print(
                    f"{name} {key}: {row['start']} → {row['refined']} in {row['wall_s']} s", file=sys.stderr
                )
        result["targets"][name] = rows
        if partial is not None:
            write_text_atomic(partial, json.dumps(result, indent=1))
    result["summary"] = {}
    for group in ("synthetic", "references"):
        members = {n: r for n, r in result["targets"].items() if target_group(n) == group}
        for key in keys:
            rows = [r[key] for r in members.values() if key in r]
            if rows:
                result["summary"][f"{group}/{key}"] = summarise(rows)
        if len(seeds) > 1:
            for kind in starts:
                per_target = [
                    [r[row_key(kind, seed)] for seed in seeds]
                    for r in members.values()
                    if row_key(kind, seeds[0]) in r
                ]
                if per_target:
                    result["summary"][f"{group}/{kind}/seed-mean"] = seed_means(per_target)
    emit(result, args.json)
    if partial is not None:
        partial.unlink(missing_ok=True)
    return 0


RUN_ONLY = ("command", "targets", "summary")
"""Keys of a result that say what a run did, not how it was set up: a resumed run may differ in these."""


def finished_targets(partial: Path, result: dict[str, Any]) -> dict[str, Any]:
    """The targets an interrupted run wrote to `partial` ({} when there is none); its settings must be
    `result`'s, else the command stops and says which differ."""
    if not partial.exists():
        return {}
    earlier = json.loads(partial.read_text())
    differ = [k for k in result if k not in RUN_ONLY and earlier.get(k) != result[k]]
    if differ:
        raise SystemExit(
            f"cannot resume from {partial}: it was run with other settings ({', '.join(differ)})"
        )
    return dict(earlier.get("targets", {}))


if __name__ == "__main__":
    raise SystemExit(main())
