"""Run the inverse model on real targets (plan phases 3–4): predicted params, render, match report.

    python -m train.validate --model models/inverse.pt --targets ../shared/references references \
        --json runs/validate.json --out-dir runs/validate

For each target: the predicted flat SceneParams (with top-k alternatives), the prediction rendered
at the target's aspect (the camera shows 5 world units across, so only the height changes), the
match report, and a side-by-side PNG target | prediction | |difference| in --out-dir.

With a retrieval bank (models/retrieval.npz by default; --bank none to skip) each target also gets the first
guess (core.inverse.guess: the CNN, its runner-up categoricals and the bank's nearest scenes, ranked by
rendering): its source, params, render, report and side-by-side ("first_guess").

With --refine [--budget N] [--seconds S], the first guess (the CNN's prediction without a bank) is then
refined (core.refine, multi-start CMA-ES from RACE_STARTS guesses: Guess.race) and the refined params,
render, report and side-by-side are added: before/after.

The last stage run (refined, else the first guess, else the CNN's) also gets a gap analysis
(core.refine.gap): where light is missing or extra, symmetry, colour, stroke width, each put down to the
search or to the renderer, how exact the target asks a match to be, and the ceiling stated in words
("gap"; in --out-dir `{stem}-gap.png`: the target in grey, light the match lacks in red, light it adds
in cyan), and its c-string with the links that open it in bb-particles at http://localhost:3000
("bb_particles", core.render.links).

Ctrl-C stops the target being refined at its best so far, skips the rest and still writes the table and
--json for the targets done (exit status 130); a second Ctrl-C aborts. --json is rewritten (atomically)
after every target, so a run killed outright keeps what it finished; `--resume` then keeps the targets
that file holds (when it was made with the same settings) and does only the rest, including a target
whose refinement Ctrl-C cut short. Without `--resume`, a --json that holds an earlier run's results is
not overwritten unless `--overwrite` says so. A target that cannot be read is skipped, said, and recorded
with its reason (exit status 1; `--resume` retries it).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import threading
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from core.argtypes import positive_int, refusal
from core.atomic import write_text_atomic
from core.device import device_argument
from core.helptext import DefaultsHelpFormatter
from core.imageio import ImageInputError, resize, save_png, to_rgb_float
from core.interrupt import cancel_on_interrupt
from core.inverse import DEFAULT_CHECKPOINT, CheckpointError, load_model, predict
from core.inverse.guess import RACE_STARTS, guess
from core.inverse.model import InverseModel
from core.inverse.retrieval import RetrievalBank, bank_for_cli
from core.metrics import match_report
from core.paths import writable_file, writable_folder
from core.progress import progress_bar
from core.refine.alternatives import alternative_starts
from core.refine.gap import gap_picture, gap_report
from core.refine.options import add_search_options, check_limits
from core.render.links import original_links
from train.settings import differences

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".svg", ".pdf")
MAX_RENDER_WIDTH = 1024


def find_targets(specs: list[str | Path]) -> list[Path]:
    """Image files named directly or found (non-recursively, sorted) in the folders given."""
    found: list[Path] = []
    for spec in map(Path, specs):
        if spec.is_dir():
            found += sorted(p for p in spec.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif spec.exists():
            found.append(spec)
        else:
            raise refusal(f"error: target {spec} does not exist")
    return found


def file_stems(targets: list[Path]) -> dict[Path, str]:
    """Each target's name for its --out-dir files: its stem, led by its folders' names where two targets
    share a stem (a/t.png and b/t.png wrote one t-compare.png, and both entries pointed to it)."""
    stems = {p: p.stem for p in targets}
    depth = 1
    while len(set(stems.values())) < len(stems) and depth <= max(len(p.parts) for p in targets):
        taken = Counter(stems.values())
        stems = {
            p: "-".join([*_folders(p)[-depth:], p.stem]) if taken[s] > 1 else s for p, s in stems.items()
        }
        depth += 1
    taken = Counter(stems.values())
    return {p: f"{s}-{i}" if taken[s] > 1 else s for i, (p, s) in enumerate(stems.items())}


def _folders(path: Path) -> tuple[str, ...]:
    """The names of the folders a path lies in, without the root ("/" is no part of a file name)."""
    parent = path.parent
    return parent.relative_to(parent.anchor).parts if parent.is_absolute() else parent.parts


def target_key(path: Path) -> str:
    """A target's identity across runs: its resolved path."""
    return str(Path(path).resolve())


def run_settings(args: argparse.Namespace) -> dict[str, Any]:
    """What decides a target's results (not where or how fast they are computed): a resumed run must
    match the run it resumes in these."""
    return {
        "model": str(Path(args.model).resolve() if args.model else DEFAULT_CHECKPOINT),
        "renderer": args.renderer,
        "quality": args.quality,
        "top_k": args.top_k,
        "bank": args.bank,
        "supersample": args.supersample,
        "refine": args.refine
        and {
            "budget": args.budget,
            "seconds": args.seconds,
            "seed": args.seed,
            **({} if args.mirror_completion else {"mirror_completion": False}),  # earlier files hold none
        },
    }


def write_results(path: Path, settings: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    payload = {"model": settings["model"], "settings": settings, "targets": entries}
    write_text_atomic(path, json.dumps(payload, indent=1))


def finished_entries(path: Path, settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The targets an earlier run wrote to `path`, by `target_key`, leaving out one whose refinement was
    cut short; {} when there is no file yet. SystemExit when it was made with other settings."""
    if not path.exists():
        return {}
    try:
        earlier = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise refusal(f"cannot resume from {path}: {exc}") from None
    theirs = earlier.get("settings") if isinstance(earlier, dict) else None
    if theirs is None:
        raise refusal(f"cannot resume from {path}: it does not record its settings; write a new --json")
    if theirs != settings:
        differ = differences(theirs, settings, say=_said)
        raise refusal(f"cannot resume from {path}: it was made with other settings ({differ})")
    entries = earlier.get("targets", [])
    return {target_key(Path(e["target"])): e for e in entries if not cut_short(e) and not failed(e)}


def earlier_results(path: Path) -> int:
    """How many targets an existing --json holds (0: none, or not a results file), so that a run without
    --resume does not overwrite an earlier one's unasked."""
    try:
        earlier = json.loads(path.read_text())
    except (OSError, ValueError):
        return 0
    targets = earlier.get("targets") if isinstance(earlier, dict) else None
    return len(targets) if isinstance(targets, list) else 0


def _said(value: Any) -> str:
    """A setting as given: one left out is "default" (the shipped bank, model …), not None."""
    return "default" if value is None else repr(value)


def still_done(targets: list[Path], done: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries an earlier run finished for targets this run has not reached yet: written with every
    update, so a resumed run that is interrupted again keeps them (it used to write only the targets it had
    reached, and a Ctrl-C during the first one deleted every result after it)."""
    return [done[key] for key in map(target_key, targets) if key in done]


def failed(entry: dict[str, Any]) -> bool:
    """Whether the target could not be read (its entry holds only the reason; a resumed run retries it)."""
    return "error" in entry


def cut_short(entry: dict[str, Any]) -> bool:
    """Whether Ctrl-C ended the target's refinement before its budget (a resumed run redoes it)."""
    return entry.get("refined", {}).get("stop_reason") == "cancelled"


def render_size(width: int, height: int, max_width: int = MAX_RENDER_WIDTH) -> tuple[int, int]:
    """The target's aspect at ≤ max_width px wide."""
    w = min(width, max_width)
    return w, max(1, round(w * height / width))


def side_by_side(target: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """target | candidate | |target − candidate| as one float RGB image (candidate resized to target)."""
    candidate = resize(candidate, target.shape[1], target.shape[0])
    gap = np.ones((target.shape[0], 4, 3), np.float32) * 0.25
    return np.concatenate([target, gap, candidate, gap, np.abs(target - candidate)], axis=1)


def validate_target(
    model: InverseModel,
    path: Path,
    renderer: Any,
    out_dir: Path | None,
    top_k: int = 3,
    refine: dict[str, Any] | None = None,
    bank: RetrievalBank | None = None,
    supersample: int | None = None,
    stem: str | None = None,
) -> dict[str, Any]:
    """One target's CNN prediction, first guess and refinement, each rendered and reported; the files in
    out_dir are named from `stem` (default: the file's own), which `file_stems` keeps apart."""
    stem = stem or path.stem
    target = to_rgb_float(path)
    h, w = target.shape[:2]
    result = predict(model, target, top_k=top_k)
    rw, rh = render_size(w, h)
    entry: dict[str, Any] = {"target": str(path), "size": [w, h], "render_size": [rw, rh]}
    record, last = _record(target, result.params, renderer, (rw, rh), out_dir, stem, "")
    entry.update(record)
    entry.update(result.to_dict())
    last_params, first = result.params, None
    if bank is not None:
        first = guess(model, target, bank, top_k=top_k, prediction=result, supersample=supersample)
        record, last = _record(target, first.params, renderer, (rw, rh), out_dir, stem, "-guess")
        entry["first_guess"] = {**first.to_dict(), **record}
        last_params = first.params
    if refine is not None:
        if first is not None:
            starts = first.race(RACE_STARTS)
        else:
            starts = alternative_starts(result.params, result.alternatives, k=RACE_STARTS)
        entry["refined"], last = refine_target(target, starts, renderer, (rw, rh), stem, out_dir, refine)
        last_params = entry["refined"]["params"]
    entry["gap"] = gap_report(target, last, last_params)
    entry["bb_particles"] = asdict(original_links(last_params))
    if out_dir is not None:
        save_png(gap_picture(target, last), out_dir / f"{stem}-gap.png")
    return entry


def _record(
    target: np.ndarray,
    params: dict[str, Any],
    renderer: Any,
    size: tuple[int, int],
    out_dir: Path | None,
    stem: str,
    tag: str,
) -> tuple[dict[str, Any], np.ndarray]:
    """Render `params` at `size` and its match report; in out_dir the side-by-side
    `{stem}{tag}-compare.png` and `{stem}{tag}-params.json`, plus the render as `{stem}-prediction.png` for
    the CNN's own (tag ""). Returns the record and the render."""
    rendered = renderer.render(params, *size)
    out: dict[str, Any] = {"report": match_report(target, rendered, lpips=False)}
    if out_dir is not None:
        compare = out_dir / f"{stem}{tag}-compare.png"
        save_png(side_by_side(resize(target, *size), rendered.astype(np.float32) / 255.0), compare)
        if not tag:
            save_png(rendered, out_dir / f"{stem}-prediction.png")
        (out_dir / f"{stem}{tag}-params.json").write_text(json.dumps(params, indent=1))
        out["compare_png"] = str(compare)
    return out, rendered


def refine_target(
    target: np.ndarray,
    starts: list[dict[str, Any]],
    renderer: Any,
    size: tuple[int, int],
    stem: str,
    out_dir: Path | None,
    options: dict[str, Any],
) -> tuple[dict[str, Any], np.ndarray]:
    """Refine from `starts[0]`, racing the first RACE_STARTS: refined params, report, files; and the
    refined render."""
    from core.refine import refine_to_end
    from core.refine.events import advance_bar

    with progress_bar(total=options.get("budget_evals") or None, unit="eval", desc=stem, leave=False) as bar:
        show = functools.partial(advance_bar, bar)
        final = refine_to_end(target, starts[0], top_k=starts[:RACE_STARTS], on_event=show, **options)
    record, rendered = _record(target, final.best_params, renderer, size, out_dir, stem, "-refined")
    return {
        "params": final.best_params,
        "evaluations": final.evaluations,
        "seconds": round(final.elapsed, 2),
        "stop_reason": final.stop_reason,
        **record,
    }, rendered


def progress_line(entry: dict[str, Any]) -> str:
    """One target's figures as each stage leaves them (CNN → first guess → refined), for the progress log."""
    if failed(entry):
        return f"skipped: {entry['error']}"
    stages = [("CNN", entry["report"])]
    if "first_guess" in entry:
        stages.append(("first guess", entry["first_guess"]["report"]))
    if "refined" in entry:
        stages.append((f"refined in {entry['refined']['seconds']} s", entry["refined"]["report"]))
    return " → ".join(f"{name} ssim {r['ssim']:.3f} lum_corr {r['lum_corr']:.3f}" for name, r in stages)


def summary_table(entries: list[dict[str, Any]]) -> str:
    head = f"{'target':<28} {'size':>10} {'ssim':>6} {'black':>6} {'skill':>6} {'lumcor':>6}  geometry"
    rows = [head, "-" * len(head)]
    for e in entries:
        if failed(e):
            rows.append(f"{Path(e['target']).name[:28]:<28} skipped: {e['error']}")
            continue
        r = e["report"]
        geo = e["alternatives"]["geometry"][0]
        rows.append(
            f"{Path(e['target']).name[:28]:<28} {e['size'][0]:>4}x{e['size'][1]:<5} {r['ssim']:6.3f} "
            f"{r['ssim_black']:6.3f} {r['ssim_skill']:6.3f} {r['lum_corr']:6.3f}  {geo[0]} ({geo[1]:.2f})"
        )
        if "first_guess" in e:
            r, first = e["first_guess"]["report"], e["first_guess"]
            rows.append(
                f"{'  first guess':<28} {'':>10} {r['ssim']:6.3f} {r['ssim_black']:6.3f} "
                f"{r['ssim_skill']:6.3f} {r['lum_corr']:6.3f}  "
                f"{first['params']['geometry']} ({first['source']})"
            )
        if "refined" in e:
            r, ref = e["refined"]["report"], e["refined"]
            cost = f"{ref['evaluations']} evals, {ref['seconds']} s"
            rows.append(
                f"{'  refined':<28} {'':>10} {r['ssim']:6.3f} {r['ssim_black']:6.3f} {r['ssim_skill']:6.3f} "
                f"{r['lum_corr']:6.3f}  {ref['params']['geometry']} ({cost})"
            )
    return "\n".join(rows)


def ceiling_lines(entries: list[dict[str, Any]]) -> str:
    """Each target's gap analysis in words (the last stage's match: refined, first guess or CNN)."""
    return "\n".join(f"{Path(e['target']).name}: {e['gap']['ceiling']}" for e in entries if "gap" in e)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m train.validate",
        description=__doc__.splitlines()[0],
        formatter_class=DefaultsHelpFormatter,
    )
    ap.add_argument("--model", type=Path, default=None, help="checkpoint (default models/inverse.pt)")
    ap.add_argument("--targets", nargs="+", required=True, help="image files or folders")
    ap.add_argument("--json", type=Path, default=None, help="results, rewritten after every target")
    again = ap.add_mutually_exclusive_group()  # "continue it" and "start afresh" cannot both hold
    again.add_argument(
        "--resume",
        action="store_true",
        help="keep the targets --json already holds (same settings) and do only the rest",
    )
    again.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh even when --json holds an earlier run's results (without it, that is refused)",
    )
    ap.add_argument("--out-dir", type=Path, default=None, help="side-by-side PNGs, renders, params")
    ap.add_argument("--renderer", default="local", help='"local" or the URL of an /api/raster')
    ap.add_argument("--quality", default="fast", choices=("exact", "fast", "draft"))
    ap.add_argument("--top-k", type=positive_int, default=3)
    ap.add_argument("--device", type=device_argument, default=None, help="cpu, cuda, mps or auto")
    ap.add_argument("--bank", default=None, help="retrieval bank (default models/retrieval.npz; none: skip)")
    ap.add_argument("--refine", action="store_true", help="refine each prediction (before/after)")
    add_search_options(ap, scope="refine: ", each=" per target")
    args = ap.parse_args(argv)
    if args.refine:
        check_limits(ap, args, "each refinement")
    return args


def main(argv: list[str] | None = None) -> int:
    from core.render import get_renderer

    args = parse_args(argv)
    targets = find_targets(args.targets)
    if not targets:
        names = ", ".join(map(str, args.targets))
        raise refusal(f"error: no images ({', '.join(IMAGE_SUFFIXES)}) in {names}")
    settings = run_settings(args)
    if args.resume and args.json is None:
        raise refusal("--resume needs the --json of the run to resume")
    try:  # where the results go, checked before the first target
        if args.json:
            writable_file(args.json)
        if args.out_dir:
            writable_folder(args.out_dir)
    except ValueError as exc:
        raise refusal(f"error: {exc}") from None
    if args.json and not args.resume and not args.overwrite and (held := earlier_results(args.json)):
        raise refusal(
            f"error: {args.json} holds an earlier run's results ({held} targets): --resume continues it, "
            "--overwrite starts afresh, or give another --json"
        )
    done = finished_entries(args.json, settings) if args.resume else {}
    try:
        model = load_model(args.model, device=args.device)
    except CheckpointError as exc:
        raise refusal(f"error: {exc}") from None
    renderer = get_renderer(args.renderer, quality=args.quality) if args.renderer == "local" else None
    renderer = renderer or get_renderer(args.renderer)
    refine = (
        {
            "budget_evals": args.budget,
            "budget_seconds": args.seconds,
            "workers": args.workers,
            "seed": args.seed,
            "supersample": args.supersample,
            "mirror_completion": args.mirror_completion,
            "shared_pool": True,  # one pool for all the targets: a spawned one (macOS) starts once
        }
        if args.refine
        else None
    )
    bank = bank_for_cli(args.bank, "first guesses come from the CNN alone")
    stop = threading.Event()
    if refine is not None:
        refine["stop"] = stop
    entries = []
    stems = file_stems(targets)
    kept = [p for p in targets if target_key(p) in done]
    if kept:
        print(f"resuming {args.json}: {len(kept)} of {len(targets)} targets already done", file=sys.stderr)
    with (
        cancel_on_interrupt(stop.set, "the validation") as interrupted,
        progress_bar(targets, unit="target") as bar,
    ):
        for i, p in enumerate(bar):
            if target_key(p) in done:
                entries.append(done[target_key(p)])
                continue
            bar.set_postfix_str(p.name, refresh=False)
            try:
                entry = validate_target(
                    model, p, renderer, args.out_dir, args.top_k, refine, bank, args.supersample, stems[p]
                )
            except ImageInputError as exc:  # one unreadable file does not end the batch
                entry = {"target": str(p), "error": str(exc)}
            entries.append(entry)
            if args.json:
                write_results(args.json, settings, entries + still_done(targets[i + 1 :], done))
            bar.write(f"{p.name}: {progress_line(entry)}", file=sys.stderr)
            if interrupted():
                left = sum(target_key(t) not in done for t in targets[i + 1 :]) + cut_short(entry)
                hint = f"; `--resume` with the same --json does the {left} left" if args.json and left else ""
                bar.write(f"interrupted after {i + 1} of {len(targets)} targets{hint}", file=sys.stderr)
                entries += still_done(targets[i + 1 :], done)
                break
    if args.json:
        write_results(args.json, settings, entries)
    print(summary_table(entries), file=sys.stdout)
    print(
        "\nWhat is left, and who can close it (core.refine.gap):\n" + ceiling_lines(entries), file=sys.stdout
    )
    if skipped := sum(map(failed, entries)):
        print(f"{skipped} of {len(entries)} targets could not be read and were skipped", file=sys.stderr)
    return 130 if stop.is_set() else 1 if skipped else 0


if __name__ == "__main__":
    raise SystemExit(main())
