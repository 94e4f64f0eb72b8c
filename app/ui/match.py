"""Match-tab glue: target upload, start params (CNN or the closest pool seed), renders beside the target,
the match report as text, refinement as a stream of UI-ready updates, params files, saving a seed."""

from __future__ import annotations

import json
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.ui.downloads import DOWNLOADS
from core.imageio import ImageInputError, save_png, to_rgb_float, to_uint8
from core.inverse.guess import RACE_STARTS, guess
from core.inverse.retrieval import default_bank
from core.metrics import match_report
from core.params import defaults, identity, sample_params, to_prefixed
from core.refine import Refiner, make_loss
from core.refine.finish import finish_words
from core.refine.gap import gap_picture, gap_report
from core.refine.mirror import completion_note
from core.render import Renderer, render
from core.render.links import original_links
from core.store import Store

log = logging.getLogger("app.ui")

DISPLAY_WIDTH = 640
"""Width in px of the renders shown beside the target (the report compares at 512 px)."""
FALLBACK_SEEDS = 32
"""Newest pool seeds screened for a start when there is no inverse model."""
SCREEN_WIDTH = 96
"""Working width in px of that screening."""
FALLBACK_DRAWS = 48
"""Draws of the weighted sampler screened beside them (seeded, so a target always gets the same start)."""
GUESS_WIDTH = 240
"""Width in px of the first guesses shown under the prediction."""
UPDATE_INTERVAL_S = 0.25
"""Refine updates are sent to the browser at most this often (and always the last)."""
HEARTBEAT_S = 0.5
"""...and at least this often: the live evaluation count while a generation is still running."""
PLOT_INTERVAL_S = 1.0
"""The score plot is sent at most this often (and always the last): the browser redraws the whole plot
on each one, while the status and preview keep their 4 updates a second."""
GENERATION_WINDOW = RACE_STARTS
"""Generations the plot's "generation" series takes the best of: the race's starts take turns generation
by generation, so one generation after another was a saw between the starts' scores (0.62 ↔ 0.83 on
figma-01), not a picture of what the search was trying; the best of a round of turns is."""
PLOT_POINTS = 300
"""Points per series the score plot is thinned to (thin_history), so each redraw costs the same late in
a run as early: a 40-s refine makes about 1000 generations."""
MAX_REFINE_EVALS = 1_000_000
MAX_REFINE_SECONDS = 86_400.0
"""The budget fields' bounds (hours of work at ≈ 20 ms an evaluation; a day): 1e30 evaluations used to
reach the handler and break the page."""


@dataclass(frozen=True)
class StartPoint:
    """Where a match starts: params, how they were found (a store seed source) and a note for the UI."""

    params: dict[str, Any]
    source: str
    note: str
    alternatives: tuple[dict[str, Any], ...] = ()
    choices: tuple[tuple[str, dict[str, Any]], ...] = ()  # (caption, params) of the guesses shown, best first


@dataclass(frozen=True)
class RefineUpdate:
    """One refine progress step for the UI: the best render so far (None: unchanged), the score history
    (columns evaluations, score, series, thinned by thin_history; None before the first event: an empty
    frame would make gr.LinePlot fix its colour scale and never draw the lines; not to be sent when `plot`
    is False), a status line, and the final event's data when done."""

    preview: np.ndarray | None
    history: pd.DataFrame | None
    status: str
    done: bool = False
    params: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    plot: bool = True  # False: the plot is unchanged since the last update (history is not sent)


def load_target(path: str | Path | None) -> tuple[np.ndarray, str]:
    """The uploaded file as (H, W, 3) float32 RGB and its name; ImageInputError says what is wrong."""
    if not path:
        raise ImageInputError("no file uploaded")
    name = Path(path).name
    try:
        return to_rgb_float(path), name
    except ImageInputError as exc:
        raise ImageInputError(f"{name} is not an image this app can use: {_reason(exc, path)}") from None


def _reason(exc: Exception, path: str | Path) -> str:
    return str(exc).replace(f"{path}: ", "").replace(str(path), "the file")


def start_point(
    target: np.ndarray, model: Any | None, model_note: str, store: Store | None, workers: int = 1
) -> StartPoint:
    """With a model, the best first guess (core.inverse.guess: the CNN, its runner-up categoricals, the
    retrieval bank's nearest scenes and motif scenes, ranked by rendering; the motifs scored by `workers`
    processes of the app's shared pool), the next best as refinement's other starts;
    else the closest of the defaults, the newest pool seeds, FALLBACK_DRAWS sampler draws and the bank's
    16 nearest scenes under the refine loss at SCREEN_WIDTH px (renders are cached)."""
    if model is not None:
        bank = default_bank()
        first = guess(model, target, bank, workers=max(1, workers), shared_pool=True)
        note = "CNN prediction" if first.sources[0] == "cnn" else f"First guess: {first.sources[0]}"
        note += f", the best of {len(first.starts)} ranked by rendering"
        note += " (the CNN, its runner-up categoricals" + (", the retrieval bank" if bank else "")
        note += ", anchored-trail motifs alone and in pairs, concentric outlines measured on the design)"
        race = first.race_indices(RACE_STARTS)
        choices = tuple((f"{first.sources[i]} · loss {first.losses[i]:.3f}", first.starts[i]) for i in race)
        alternatives = tuple(first.starts[i] for i in race[1:])
        return StartPoint(first.params, "cnn", note, alternatives, choices)
    candidates: list[tuple[str, dict[str, Any]]] = [("the default parameters", defaults())]
    if store is not None:
        candidates += [(f"pool seed #{s.id}", s.params) for s in store.seeds()[-FALLBACK_SEEDS:]]
    draws = sample_params(FALLBACK_DRAWS, seed=0, mode="weighted")
    candidates += [(f"sampler draw {i}", p) for i, p in enumerate(draws)]
    bank = default_bank()
    if bank is not None:
        candidates += [(f"bank scene {n.key[0]}/{n.key[1]}", n.params) for n in bank.neighbours(target, 16)]
    loss = make_loss("ssim_lum", target, SCREEN_WIDTH)
    scored = []
    for label, params in candidates:
        try:
            scored.append((loss(_screen_render(identity(params), loss.size)), label, params))
        except Exception:  # a seed that cannot render is skipped, not fatal
            continue
    scored.sort(key=lambda item: item[0])
    _, label, params = scored[0]
    note = f"{model_note}. Starting from {label}, the closest of {len(candidates)} candidates"
    note += " (the defaults, the newest pool seeds, sampler draws" + (
        ", the retrieval bank)" if bank else ")"
    )
    choices = tuple((f"{lab} · loss {value:.3f}", dict(p)) for value, lab, p in scored[:RACE_STARTS])
    return StartPoint(dict(params), "manual", note, choices=choices)


def guess_gallery(
    choices: Sequence[tuple[str, dict[str, Any]]], target: np.ndarray, renderer: Renderer
) -> list[tuple[np.ndarray, str]]:
    """The first guesses as (render, caption) pairs for a gallery, GUESS_WIDTH px wide at the target's
    aspect, so the designer can see them and start from another one."""
    h, w = target.shape[:2]
    width = min(w, GUESS_WIDTH)
    height = max(1, round(width * h / w))
    return [
        (_thumbnail(renderer, json.dumps(params, sort_keys=True), width, height), caption)
        for caption, params in choices
    ]


@lru_cache(maxsize=256)
def _thumbnail(renderer: Renderer, params_json: str, width: int, height: int) -> np.ndarray:
    """A gallery render, kept: the gallery is drawn again after every refine, and redrawing its eight first
    guesses took 0.4 s of the finished refine's last update (the gap a designer waits through)."""
    picture = renderer.render(json.loads(params_json), width, height)
    picture.flags.writeable = False  # shared between updates
    return picture


def attempt_caption(seed: int, report: Mapping[str, Any] | None) -> str:
    """The gallery caption of a finished refinement: which attempt, and how close it came."""
    caption = f"refined, attempt {seed + 1}"
    if report:
        caption += f" · ssim {report['ssim']:.2f} · lum_corr {report['lum_corr']:.2f}"
    return caption


@lru_cache(maxsize=1024)
def _screen_render(params_json: str, size: tuple[int, int]) -> np.ndarray:
    return render(json.loads(params_json), *size, quality="fast")


def render_like(params: dict[str, Any], target: np.ndarray, renderer: Renderer) -> np.ndarray:
    """`params` rendered at the target's aspect ratio, at most DISPLAY_WIDTH px wide, uint8."""
    h, w = target.shape[:2]
    width = min(w, DISPLAY_WIDTH)
    return renderer.render(params, width, max(1, round(width * h / w)))


MIN_SHOWN_WIDTH = 256
"""Images narrower than this are shown enlarged (whole pixels, nearest): a 16-px design was drawn as a
16-px strip under its label, beside start thumbnails blown up to 300 px."""


def shown(image: np.ndarray) -> np.ndarray:
    """`image` (uint8 or float) as the page shows it: enlarged by a whole factor when narrow, else as is."""
    factor = -(-MIN_SHOWN_WIDTH // image.shape[1])
    return image if factor <= 1 else np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def compare(target: np.ndarray, candidate: np.ndarray) -> dict[str, Any]:
    """The match report of a candidate render against the target (LPIPS when its weights exist)."""
    return match_report(target, candidate, lpips=True)


def report_markdown(report: dict[str, Any] | None, title: str = "Match report") -> str:
    """The match report as a small Markdown table (ssim, ssim_gain, ssim_skill, lum_corr, lpips)."""
    if not report:
        return ""
    rows = [
        ("ssim", report["ssim"], "structural similarity (a black image scores ssim_black)"),
        ("ssim_black", report["ssim_black"], "what an all-black image scores"),
        ("ssim_gain", report["ssim_gain"], "ssim − ssim_black: the part that is real"),
        ("ssim_skill", report["ssim_skill"], "0 = no better than black, 1 = perfect"),
        ("lum_corr", report["lum_corr"], "does the light fall where the target's does"),
    ]
    lines = [f"**{title}**", "", "| figure | value | meaning |", "|---|---|---|"]
    lines += [f"| {name} | {value:.3f} | {meaning} |" for name, value, meaning in rows]
    if report.get("lpips") is not None:
        lines.append(f"| lpips | {report['lpips']:.3f} | perceptual distance, lower is closer |")
    else:
        lines.append(f"| lpips | — | {lpips_words(report.get('lpips_reason'))} |")
    if report["ssim_gain"] < 0:
        lines += ["", BELOW_BLACK_NOTE]
    return "\n".join(lines)


def lpips_words(reason: str | None) -> str:
    """Why a report has no LPIPS, as the designer reads it. Why: the row carried the admin's note (a cache
    path and a checkpoint's file name); that goes to the server's log, once."""
    if reason and "weights not found" in reason:
        _log_once(reason)
        return "perceptual distance: not on this machine (its network weights are not installed; see the log)"
    return reason or "not computed"


@cache
def _log_once(reason: str) -> None:
    log.warning("%s", reason)


BELOW_BLACK_NOTE = (
    "⚠️ This match scores below an all-black image (ssim_gain < 0): its light is not where the design's "
    "is. Refine it, or pick another first guess."
)
"""Said under a report whose ssim is below ssim_black: the table alone reads as a fair score (0.6 looks
decent) when a black image would have done better."""


_VERDICTS = {
    "renderer": "renderer limit",
    "search": "left to the search",
    "metric": "the figures' exactness",
    "target": "in the target, not the design",
    "ok": "ok",
}


def gap_view(target: np.ndarray, render_image: np.ndarray, params: dict[str, Any]) -> tuple[str, np.ndarray]:
    """What is left between the match and the target (core.refine.gap): a one-line tally, then each check's
    words, the renderer's limits first, and the picture (target in grey, light the match lacks in red,
    light it adds in cyan) as uint8. Why a tally: the report's summary paragraph repeated every check's
    words above the same words in the list (an audit in the browser)."""
    gap = gap_report(target, render_image, params)
    findings = sorted(
        gap["findings"],
        key=lambda f: list(_VERDICTS).index(f["verdict"]) if f["verdict"] in _VERDICTS else len(_VERDICTS),
    )
    lines = ["**What is left**", "", gap_tally(findings), ""]
    lines += [
        f"- *{f['aspect']}* ({_VERDICTS.get(f['verdict'], f['verdict'])}): {f['words']}" for f in findings
    ]
    return "\n".join(lines), to_uint8(gap_picture(target, render_image))


def gap_tally(findings: Sequence[Mapping[str, Any]]) -> str:
    """ "Renderer limits: none found · left to the search: 1 · …": how the checks came out, in one line."""
    counts = {verdict: sum(f["verdict"] == verdict for f in findings) for verdict in _VERDICTS}
    limits = counts.pop("renderer")
    parts = [f"Renderer limits: {limits or 'none found'}"]
    parts += [f"{_VERDICTS[verdict]}: {n}" for verdict, n in counts.items() if n]
    return " · ".join(parts)


def score_from_loss(loss: float) -> float:
    """The refine score shown in the UI: 1 − loss / 2, i.e. the mean of SSIM and lum_corr on the blurred
    working images for the default `ssim_lum` loss (loss = 2 − ssim − lum_corr); higher is better."""
    return 1.0 - loss / 2.0 if math.isfinite(loss) else 0.0


def refine_updates(
    target: np.ndarray,
    start: dict[str, Any],
    *,
    budget_evals: int | None,
    budget_seconds: float | None,
    workers: int = 1,
    alternatives: list[dict[str, Any]] | None = None,
    seed: int = 0,
    on_start: Callable[[Refiner], None] | None = None,
) -> Iterator[RefineUpdate]:
    """Refine `start` against `target`, yielding UI updates every UPDATE_INTERVAL_S to HEARTBEAT_S, and the
    last one (done=True). The refiner runs in a thread, so updates keep coming (with the live evaluation
    count) even while one generation takes longer than a second.

    `alternatives`: other first guesses, raced from the start with `start` (multi-start CMA-ES). `seed`:
    the search's seed (the same seed, start and evaluation budget give the same match); the status names
    it when it is not 0, so a second attempt reads as one.
    `on_start` receives the Refiner (call its `cancel()` to stop; the run then ends with the best so far).
    Closing this generator early cancels the run.
    """
    refiner = Refiner(
        target,
        start,
        budget_evals=budget_evals or None,
        budget_seconds=budget_seconds or None,
        workers=max(1, workers),
        seed=seed,
        top_k=[start, *alternatives] if alternatives else None,
        preview_every=50,
        preview_width=DISPLAY_WIDTH,
        lpips=True,
        shared_pool=True,  # the app's refines share one pool: a spawned one (macOS) starts once
    )
    if on_start is not None:
        on_start(refiner)
    events: queue.Queue[Any] = queue.Queue()
    worker = threading.Thread(target=_pump, args=(refiner, events), name="refine", daemon=True)
    rows: list[HistoryRow] = []
    start_score: float | None = None
    best = searched = 0.0  # the latest best score, and the search's own best before the finish
    preview: np.ndarray | None = None
    last_sent = last_plot = -math.inf
    seeded = f", seed {seed}" if seed else ""
    of_evals = f" of {budget_evals}" if budget_evals else ""  # the budget, so a designer sees how far in
    of_seconds = f" of {budget_seconds:g}" if budget_seconds else ""
    t0 = time.perf_counter()
    worker.start()
    try:
        while True:
            try:
                event = events.get(timeout=HEARTBEAT_S)
            except queue.Empty:
                event = None
            if isinstance(event, BaseException):
                raise event
            if event is _DONE:
                return
            if event is not None:
                best = score_from_loss(event.best_loss)
                start_score = best if start_score is None else start_score
                searched = searched if event.done else best
                # the plot is the search's: the finished match is fitted at the report's size and scored
                # there, which the status tells (a one-point series of its score at the search's size
                # was never drawn, and read as the finish's loss where it was seen)
                if not event.done:  # "generation" first: the plot draws series in order, "best" on top
                    rows.append((event.evaluations, score_from_loss(event.batch_loss), "generation"))
                    rows.append((event.evaluations, best, "best"))
                if event.preview is not None:
                    preview = event.preview
            now = time.perf_counter()
            final = event is not None and event.done
            if not final and now - last_sent < UPDATE_INTERVAL_S:
                continue
            last_sent = now
            plot = final or now - last_plot >= PLOT_INTERVAL_S
            if plot:
                last_plot = now
                history = pd.DataFrame(thin_history(rows), columns=["evaluations", "score", "series"])
                history = history if rows else None
            if final:
                reason = _REASONS.get(event.stop_reason or "", event.stop_reason)
                losses = refiner.finish.losses(event.best_params)
                full = None if losses is None else (score_from_loss(losses[0]), score_from_loss(losses[1]))
                status = (
                    f"Done ({reason}{seeded}): {event.evaluations} evaluations in {event.elapsed:.1f} s; "
                    f"score {start_score:.3f} → {searched:.3f}{finished_words(searched, best, full)}"
                    f"{completion_words(refiner.completed_axis)}"
                )
                yield RefineUpdate(preview, history, status, True, event.best_params, event.best_report)
                continue
            score = "" if start_score is None else f"; score {start_score:.3f} → {best:.3f}"
            if refiner.stage == "finish":
                status = f"Finishing at full size (stroke width, polish, colour)… {now - t0:.1f} s{score}"
            else:
                status = (
                    f"Refining{seeded}… {refiner.evaluations}{of_evals} evaluations, "
                    f"{now - t0:.1f}{of_seconds} s{score}"
                )
                status += completion_words(refiner.completed_axis)
            yield RefineUpdate(preview, history, status, plot=plot)
            preview = None
    finally:
        refiner.cancel()
        worker.join()


HistoryRow = tuple[int, float, str]
"""(evaluations, score, series) of the refine score plot."""


def thin_history(rows: list[HistoryRow], points: int = PLOT_POINTS) -> list[HistoryRow]:
    """At most about `points` rows per series, in their original order (the plot draws series in the
    order they first appear): a monotone series ("best") keeps the rows where it changed and the row
    before each (the line stays a step, not a slope), spread evenly when those are too many; a noisy one
    ("generation") keeps the highest score of each run of at least GENERATION_WINDOW rows, at most
    `points` runs. Each series keeps its first row (the order the series are drawn in); a monotone one
    keeps its last too, but the noisy one does not: when two searches take turns, its last row is the
    other search's and read as a plunge at the end."""
    by_series: dict[str, list[int]] = {}
    for i, (_, _, series) in enumerate(rows):
        by_series.setdefault(series, []).append(i)
    keep: set[int] = set()
    for series, index in by_series.items():
        if series == "generation":
            runs = min(points, math.ceil(len(index) / GENERATION_WINDOW))
            chosen = [max(run, key=lambda i: rows[i][1]) for run in np.array_split(index, runs) if len(run)]
        else:
            steps = [k for k in range(1, len(index)) if rows[index[k]][1] != rows[index[k - 1]][1]]
            if len(steps) > points // 2:
                steps = [steps[round(k)] for k in np.linspace(0, len(steps) - 1, points // 2)]
            chosen = [index[j] for k in steps for j in (k - 1, k)]  # the row before a step keeps it a step
        keep.update(chosen)
        keep.add(index[0])
        if series != "generation":
            keep.add(index[-1])
    return [rows[i] for i in sorted(keep)]


def finished_words(searched: float, finished: float, full: tuple[float, float] | None = None) -> str:
    """The finished match's score when it differs from the search's best: the finish fits stroke, grain,
    fine structure and colour at the report's size, which can cost at the working size where the score is
    measured (or gain: the polish), so the two are told apart rather than shown as one dip. `full`: the
    score at the report's size before and after the finish, what the finish improves: without it a
    designer read figma-02's "0.831 in the search, 0.780 after the finish" as the finish spoiling the
    match, while at 512 px it had taken the score from 0.728 to 0.765 (ssim_skill −0.30 → −0.12)."""
    moved_full = full is not None and abs(full[1] - full[0]) >= 0.0005
    if abs(finished - searched) < 0.0005 and not moved_full:
        return ""
    if full is None:
        return f" in the search, {finished:.3f} after the finish at full size"
    return f" in the search; {finish_words(full[0], full[1], finished, 'score', 3)}"


def completion_words(axis: str | None) -> str:
    """The status's sentence when the run gave the match the mirror copies of a symmetric design
    (core.refine.mirror.completion_note); "" when it did not."""
    note = completion_note(axis)
    return "" if note is None else f". {note.rstrip('.')}"


_DONE = object()


def _pump(refiner: Refiner, events: queue.Queue[Any]) -> None:
    """Run the refiner, putting its events (then _DONE, or the exception) on `events`."""
    try:
        for event in refiner.run():
            events.put(event)
    except BaseException as exc:  # handed to the consumer, which raises it
        events.put(exc)
    events.put(_DONE)


_REASONS = {
    "budget_evals": "evaluation budget reached",
    "budget_seconds": "time budget reached",
    "cancelled": "stopped",
}


def params_texts(params: dict[str, Any]) -> tuple[str, str]:
    """(flat JSON, Leva-prefixed JSON) of flat params, indented for reading."""
    return json.dumps(params, indent=2), json.dumps(to_prefixed(params), indent=2)


def links_markdown(params: dict[str, Any], original_url: str, what: str = "match") -> str:
    """Where the `what` (a match, a find) opens in the designer's bb-particles (core.render.links), and
    its c-string."""
    links = original_links(params, original_url)
    return (
        f"**Open this {what} in bb-particles** (running at {original_url}; Settings changes the address): "
        f"[with its controls, to edit]({links.editor}) · [the render alone]({links.render})\n\n"
        f"The c-string (the original's URL codec, {len(links.cstring)} characters):\n\n"
        f"```\n{links.cstring}\n```"
    )


def params_outputs(params: dict[str, Any], name: str, original_url: str) -> tuple[str, str, str, list[str]]:
    """Everything the Parameters panel shows of a match: flat JSON, Leva JSON, the bb-particles links and
    the downloadable files, in the order the app's outputs take them."""
    flat, leva = params_texts(params)
    return flat, leva, links_markdown(params, original_url), params_files(params, name)


def params_files(params: dict[str, Any], name: str) -> list[str]:
    """The params as two downloadable files, `<name>.params.json` (flat) and `<name>.leva.json`, in a
    fresh folder of the app's downloads (app.ui.downloads); returns their paths."""
    flat, prefixed = params_texts(params)
    folder = DOWNLOADS.folder()
    stem = Path(name).stem or "match"
    paths = [folder / f"{stem}.params.json", folder / f"{stem}.leva.json"]
    paths[0].write_text(flat + "\n", encoding="utf-8")
    paths[1].write_text(prefixed + "\n", encoding="utf-8")
    return [str(p) for p in paths]


FULL_RENDER_MAX = 4096
"""The full-size render's longest side, in px: a design's own size up to this (a 6000-px design would
otherwise take seconds and tens of MB for a file the designer compares by eye)."""


def full_render_file(params: dict[str, Any], target: np.ndarray, name: str, renderer: Renderer) -> str:
    """`params` rendered at the design's size (longest side at most FULL_RENDER_MAX) as `<name>.match.png`
    in a fresh downloads folder; returns its path. Why: the page shows the match at most DISPLAY_WIDTH wide,
    and its own download is that lossy preview."""
    h, w = target.shape[:2]
    scale = min(1.0, FULL_RENDER_MAX / max(h, w))
    width, height = max(1, round(w * scale)), max(1, round(h * scale))
    path = DOWNLOADS.folder() / f"{Path(name).stem or 'match'}.match.png"
    save_png(renderer.render(params, width, height), path)
    return str(path)


def save_seed(
    store: Store, params: dict[str, Any], source: str, name: str, report: dict[str, Any] | None
) -> int:
    """Add the current params to the seed pool, labelled with the target's name and its scores."""
    notes = None
    if report:
        notes = f"ssim {report['ssim']:.3f}, ssim_skill {report['ssim_skill']:.3f}, "
        notes += f"lum_corr {report['lum_corr']:.3f} against {name}"
    return store.add_seed(params, source=source, label=name or None, notes=notes)


def as_display(image: np.ndarray) -> np.ndarray:
    """A uint8 RGB copy for display."""
    return to_uint8(image)
