"""`python -m core.refine TARGET.png`: refine with a progress bar; write the best params, render and a
side-by-side comparison.

    python -m core.refine TARGET.png [--start guess|sampler|PARAMS.json] [--budget N] [--seconds S]
                          [--method catcma|cma|pycma] [--workers W] [--seed K] [--out-dir D]
                          [--bb-particles URL]

The start is, by default, what the app starts from: the first guess of the inverse model and the retrieval
bank (core.inverse.guess), its best few guesses raced (Guess.race). Without a checkpoint it says so and
starts from the best of the sampler's draws (`--start sampler` asks for that); a JSON file starts from
those params.

Writes D/best_params.json (flat SceneParams), D/best.png (the best render at the target's size, exact
quality), D/side_by_side.png (target | best), D/gap.png (where the match differs: target grey, light it
lacks red, light it adds cyan) and D/report.json (the final match report, the gap analysis, run figures
and the links that open the match in bb-particles, core.render.links); prints what is left in words
(core.refine.gap) and the link on stderr.

Ctrl-C stops the run and still writes all of it for the best so far (exit status 130); a second Ctrl-C
aborts. A target or start that cannot be used is one line on stderr (exit status 2), before any work.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from core.atomic import write_text_atomic
from core.helptext import DefaultsHelpFormatter
from core.imageio import ImageInputError, frame_note, save_png, to_rgb_float, to_uint8
from core.interrupt import cancel_on_interrupt
from core.metrics import target_notes
from core.params import ParamsError, validate
from core.paths import writable_folder
from core.progress import progress_bar
from core.refine.events import advance_bar
from core.refine.finish import finish_words
from core.refine.gap import gap_picture, gap_report
from core.refine.mirror import completion_note
from core.refine.options import add_search_options, check_limits
from core.refine.refiner import (
    DEFAULT_METHOD,
    METHODS,
    FlatTargetWarning,
    Refiner,
)
from core.refine.supersample import supersample_note
from core.render import render
from core.render.links import original_links, site_root
from core.render.remote import DEFAULT_URL


def side_by_side(left: np.ndarray, right: np.ndarray, gap: int = 8) -> np.ndarray:
    """Two same-height uint8 images with a black gap between them."""
    h = left.shape[0]
    return np.concatenate([left, np.zeros((h, gap, 3), np.uint8), right], axis=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.refine",
        description=__doc__,
        formatter_class=DefaultsHelpFormatter,
    )
    parser.add_argument("target", help="target image (PNG, SVG, PDF or any image, any size)")
    parser.add_argument(
        "--start",
        default="guess",
        help="guess (default: the inverse model's first guess, as the app), sampler (the best of the "
        "sampler's draws) or a params JSON file (flat or Leva-prefixed)",
    )
    parser.add_argument("--checkpoint", help="inverse-model checkpoint for --start guess (default: shipped)")
    add_search_options(parser)
    parser.add_argument("--method", choices=sorted(METHODS), default=DEFAULT_METHOD, help="search engine")
    parser.add_argument("--out-dir", default="refine-out", help="folder for the match's files")
    parser.add_argument(
        "--bb-particles",
        default=DEFAULT_URL,
        metavar="URL",
        help=f"where your bb-particles runs, for the links that open the match (default {DEFAULT_URL})",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FlatTargetWarning)  # said below, as a warning line
    check_limits(parser, args)

    try:
        site_root(args.bb_particles)
        target = to_rgb_float(args.target)
        given = read_start(args.start) if args.start not in ("guess", "sampler") else None
        out = writable_folder(args.out_dir)  # checked before the run, not after it
        for note in [*target_notes(target), frame_note(args.target)]:
            if note:
                print(f"warning: {note}", file=sys.stderr)
        start, race = (
            first_guess(target, args.checkpoint, args.supersample) if args.start == "guess" else (given, None)
        )
        refiner = Refiner(
            target,
            start,
            top_k=race,
            budget_evals=args.budget or None,
            budget_seconds=args.seconds or None,
            method=args.method,
            seed=args.seed,
            workers=args.workers,
            supersample=args.supersample,
            mirror_completion=args.mirror_completion,
        )
        if args.supersample is None and (note := supersample_note(target, refiner.loss.size[0])):
            print(f"note: {note}", file=sys.stderr)
    except (ImageInputError, ParamsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # during the first guess: nothing found yet, nothing to keep
        print("interrupted before the search started: nothing written", file=sys.stderr)
        return 130
    final = None
    with (
        progress_bar(total=args.budget or None, unit="eval") as bar,
        cancel_on_interrupt(refiner.cancel, "the refinement") as interrupted,
    ):
        try:
            for event in refiner.run():
                advance_bar(bar, event)
                final = event
        except KeyboardInterrupt:  # the second Ctrl-C: the run did not stop
            print("aborted: nothing written", file=sys.stderr)
            return 130
    assert final is not None and final.done
    if note := completion_note(refiner.completed_axis):
        print(f"note: {note}", file=sys.stderr)
    finish = refiner.finish.losses(final.best_params)
    if note := finish_note(finish, final.best_loss):
        print(f"note: {note}", file=sys.stderr)
    write_text_atomic(out / "best_params.json", json.dumps(final.best_params, indent=2) + "\n")
    h, w = target.shape[:2]
    best = render(final.best_params, w, h, quality="exact")
    save_png(best, out / "best.png")
    save_png(side_by_side(to_uint8(target), best), out / "side_by_side.png")
    save_png(gap_picture(target, best), out / "gap.png")
    gap = gap_report(target, best, final.best_params)
    print(f"What is left: {gap['ceiling']}", file=sys.stderr)
    links = original_links(final.best_params, args.bb_particles)
    print(f"Open it in bb-particles: {links.editor}", file=sys.stderr)
    summary = {
        "target": str(args.target),
        "method": final.method,
        "evaluations": final.evaluations,
        "elapsed_s": round(final.elapsed, 2),
        "stop_reason": final.stop_reason,
        "best_loss": final.best_loss,
        "supersample": refiner.supersample,
        "mirror_completion": refiner.completed_axis,
        "finish_loss_full": None if finish is None else {"before": finish[0], "after": finish[1]},
        "report": final.best_report,
        "gap": gap,
        "bb_particles": asdict(links),
    }
    write_text_atomic(out / "report.json", json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "gap"}))
    if interrupted():
        print(f"interrupted: the best so far is in {out}", file=sys.stderr)
        return 130
    return 0


def finish_note(losses: tuple[float, float] | None, best_loss: float) -> str | None:
    """What the finish did, at the report's size where it fits: the bar's last best_loss (the finished
    match at the search's size) can be higher than the bar showed during the search, read without this
    as the run losing ground at its end."""
    if losses is None or abs(losses[1] - losses[0]) < 1e-4:
        return None
    return finish_words(losses[0], losses[1], best_loss, "loss", 4)


def first_guess(
    target: np.ndarray, checkpoint: str | None, supersample: int | None = None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    """The app's start: the best first guess and the guesses raced (None, None without a checkpoint, said
    on stderr: the Refiner then starts from the sampler's best), ranked at the search's `supersample`."""
    from core.inverse import CheckpointError, load_model
    from core.inverse.guess import guess
    from core.inverse.retrieval import default_bank

    try:
        model = load_model(checkpoint)
    except (CheckpointError, OSError) as exc:
        print(f"no first guess ({exc}); starting from the sampler's best", file=sys.stderr)
        return None, None
    first = guess(model, target, default_bank(), supersample=supersample)
    print(f"first guess: {first.sources[0]} (loss {first.losses[0]:.3f})", file=sys.stderr)
    return first.params, first.race()


def read_start(path: str) -> dict[str, Any]:
    """Start params from a JSON file (flat, Leva-prefixed or wrapped), checked now: a bad file is a
    message before the run, not a traceback after the first guess."""
    try:
        params = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the start params ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(params, dict):
        raise ValueError(f"{path}: start params must be a JSON object, not {type(params).__name__}")
    try:
        validate(params)
    except ParamsError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return params
