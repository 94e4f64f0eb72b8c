"""Event handlers: Gradio inputs → library calls (through the glue modules) → Gradio outputs.

Each handler's docstring names its outputs in order; `layout` wires them. Errors the user can fix come
back as messages in the UI; anything unexpected is logged with its traceback and shown as one line
(`gr.Error`), never as a stack trace.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from app.ui import explore, match, pool, resources
from app.ui.session import MAX_ATTEMPTS, Session
from app.ui.settings import load_settings, save_settings
from core.explore import ExploreError
from core.imageio import ImageInputError, frame_note, to_uint8
from core.judge import JudgeError, create_judge
from core.judge.openai_vlm import OpenAIJudge
from core.metrics import target_notes
from core.params import ParamsError
from core.paths import writable_folder
from core.refine import DEFAULT_BUDGET_SECONDS
from core.refine.loss import DEFAULT_WIDTH
from core.refine.supersample import supersample_note
from core.render import RenderError
from core.render.links import answering
from core.store import GALLERY_MIN_SCORE, StoreError

log = logging.getLogger("app.ui")
F = TypeVar("F", bound=Callable[..., Any])
EXPECTED = (ImageInputError, ParamsError, RenderError, StoreError, JudgeError, OSError, ValueError)
"""Errors a user can act on: shown as their message."""


def reported(fn: F) -> F:
    """Show an unexpected exception as a one-line gr.Error (traceback to the log, not the page)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except EXPECTED as exc:  # the user's to fix: a message, no traceback in the server's console
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("%s failed", fn.__name__)  # logged once, here; Gradio would print it again
            raise gr.Error(
                f"{fn.__name__} failed: {type(exc).__name__}: {exc}", print_exception=False
            ) from None

    return wrapper  # type: ignore[return-value]


def new_session(home: str) -> Session:
    """A fresh session with the persisted settings of the launch data directory `home`."""
    return Session(settings=load_settings(home), home=home)


# -- page load ----------------------------------------------------------------------------------------------


@reported
def on_load(session: Session) -> tuple[Any, ...]:
    """Outputs: renderer, judge, checkpoint, data_dir, workers, bb-particles address, settings status,
    explore judge, explore note, explore start button, pool table, pool thumbnails."""
    s = session.settings
    ok, why = explore.explore_available()
    return (
        s.renderer,
        s.judge,
        s.checkpoint,
        s.data_dir,
        s.refine_workers,
        s.original_url,
        settings_summary(session),
        s.judge,
        EXPLORE_HOW if ok else f"⚠️ {why}",
        gr.update(interactive=ok),
        *pool_views(session),
    )


EXPLORE_HOW = (
    "**How exploration works.** An evolution strategy draws variations of the chosen seed; the judge scores "
    "each render 1–10 against the reference aesthetic (*proxy*: closeness to the reference images, offline; "
    "a VLM server or a local vision-language model: set it in Settings). A render scoring "
    f"≥ {GALLERY_MIN_SCORE:g} is a *find*: it goes to the Gallery, and the inverse model's reading of its "
    "image joins the seed pool as a new seed (source *cnn*: the closed loop). That reading can differ from "
    "the find while the model is rough; *Promote to seed* on the Gallery tab adds the find's own parameters."
)
"""The Explore tab's note: what a run does with the seed, the judge's scores and its finds (a browser audit
found a find's pool seed looking unlike the find, with nothing on the page saying why)."""


def whole_id(value: str | float | None, what: str) -> int | None:
    """A seed, run or find id typed or picked into the Explore and Gallery tabs' text fields: None when
    empty (or 0, no store's id), else the whole number; ValueError saying what is wrong otherwise."""
    text = "" if value is None else str(value).strip().lstrip("#")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"A {what} id is a whole number, not {text!r}.") from None
    if not number.is_integer() or number < 0:
        raise ValueError(f"A {what} id is a whole number, not {text}.")
    return int(number) or None


def settings_summary(session: Session) -> str:
    """What the current settings resolve to, in words."""
    s = session.settings
    _, model_note = resources.model_for(s.checkpoint)
    model = "found" if not model_note else "missing: predictions start from the closest pool seed"
    up = "answering" if answering(s.original_url) else "not answering now: start it with `npm run dev`"
    renderer = ""  # an original's /api/raster: whether it answers (else the Match tab draws with the twin)
    if s.renderer.strip() not in ("", "local"):
        down = "not answering now: the Match tab draws with the local twin meanwhile"
        renderer = f" ({'answering' if answering(s.renderer) else down})"
    return (
        f"Renderer **{s.renderer}**{renderer} · judge **{s.judge}**{judge_state(s.judge)} · "
        f"checkpoint `{s.checkpoint}` ({model}) · "
        f"store `{resources.store_for(s.data_dir).path}` · bb-particles links open {s.original_url} "
        f"({up}) · "
        f"settings file `{Path(session.home) / 'settings.json'}`"
    )


def judge_state(judge: str) -> str:
    """ " (answering)" or " (not answering now: …)" for a VLM server judge, "" for the others: a judge that
    is down was saved without a word and found down only by the first exploration, seconds in."""
    if not judge.strip().startswith("openai:"):
        return ""
    try:
        server = create_judge(judge)
    except (JudgeError, ValueError):
        return ""
    if not isinstance(server, OpenAIJudge):
        return ""
    if server.answering():
        return " (answering)"
    return f" (not answering now: start the VLM server at {server.api_root}, or explore with the proxy judge)"


# -- Match -------------------------------------------------------------------------------------------------


def on_upload(session: Session, path: str | None) -> tuple[Any, ...]:
    """Outputs: upload (reset to an empty drop zone), status, target image, candidate image, report, flat
    JSON, Leva JSON, bb-particles links, files, plot, refine status, first-guess gallery, gap picture, save
    status. A bad file leaves a message in the status and the rest as it was."""
    return (None, *_upload(session, path))


def _upload(session: Session, path: str | None) -> tuple[Any, ...]:
    session.preparing = True
    try:
        return _prepare(session, path)
    finally:
        session.preparing = False


def _prepare(session: Session, path: str | None) -> tuple[Any, ...]:
    cleared = (None, None, "", "", "", "", None, None, "", None, None, "")
    target = None
    if path:
        try:
            target, name = match.load_target(path)
        except ImageInputError as exc:
            if session.target is not None:  # a wrong file dropped on a design's work: the work stays
                kept = f" The design shown stays, with its match and refinements: **{session.target_name}**."
                return (f"⚠️ {exc}{kept}", *[gr.skip()] * len(cleared))
            return (f"⚠️ {exc}", *cleared)
    session.cancel_refine()
    session.target_id += 1
    session.refines, session.attempts = 0, []
    session.params, session.report = None, None  # the last design's match is not this one's start
    session.choices = []
    if target is None:
        session.target = None
        return ("Drop a design (PNG, SVG, PDF or any image) to start.", *cleared)
    session.target, session.target_name = target, name
    try:
        model, model_note = resources.model_for(session.settings.checkpoint)
        store = resources.store_for(session.settings.data_dir)
        start = match.start_point(target, model, model_note, store, session.settings.refine_workers)
        renderer, renderer_note = resources.display_renderer(session.settings.renderer)
        candidate = match.render_like(start.params, target, renderer)
        report = match.compare(target, candidate)
    except EXPECTED as exc:
        return (f"⚠️ {name}: {exc}", match.shown(to_uint8(target)), *cleared[1:])
    session.params, session.source, session.report = start.params, start.source, report
    session.alternatives = list(start.alternatives)
    session.choices = list(start.choices)
    try:
        gallery = match.guess_gallery(start.choices, target, renderer) if len(start.choices) > 1 else None
    except EXPECTED:  # the gallery is a convenience: the prediction is shown either way
        gallery = None
    h, w = target.shape[:2]
    status = f"**{name}** ({w}×{h}): {start.note}."
    if gallery:
        status += " Other first guesses are below: click one to start from it."
    for note in [*target_notes(target), frame_note(path)]:
        status += f" ⚠️ {note}" if note else ""
    if note := supersample_note(target, DEFAULT_WIDTH):
        status += f" {note}"
    if renderer_note:
        status += f" {renderer_note}"
    return (
        status,
        match.shown(to_uint8(target)),
        match.shown(candidate),
        match.report_markdown(report, "Match report (start)"),
        *match.params_outputs(start.params, name, session.settings.original_url),
        None,
        "",
        gallery,
        None,
        "",
    )


def on_guess_select(session: Session, evt: gr.SelectData) -> tuple[Any, ...]:
    """A start clicked in the gallery becomes the current match. A first guess: the other first guesses
    stay refinement's alternatives. A refined attempt: refining goes on from it alone, as after a refine.
    Outputs: status, candidate image, report, flat JSON, Leva JSON, bb-particles links, files, and the
    last refine's plot, status, gap picture and save status (cleared: they spoke of the match before)."""
    skip = gr.skip()
    index = evt.index if isinstance(evt.index, int) else evt.index[0]
    starts = session.gallery()
    if session.target is None or not 0 <= index < len(starts):
        return (skip,) * 11
    session.pick_id += 1  # before the cancel: the refine it stops must not replace this pick
    session.cancel_refine()
    caption, params = starts[index]
    attempt = index < len(session.attempts)
    target = session.target
    try:
        renderer, renderer_note = resources.display_renderer(session.settings.renderer)
        candidate = match.render_like(params, target, renderer)
        report = match.compare(target, candidate)
    except EXPECTED as exc:
        return (f"⚠️ {exc}", *[skip] * 10)
    session.params, session.report = params, report
    if attempt:
        session.source, session.alternatives = "refine", []
        picked = "an earlier refinement"
    else:
        first = index - len(session.attempts)
        session.alternatives = [p for i, (_, p) in enumerate(session.choices) if i != first]
        picked = "the first guesses"
    return (
        f"**{session.target_name}**: starting from {caption} (picked from {picked}). {renderer_note}".strip(),
        match.shown(candidate),
        match.report_markdown(report, "Match report (start)"),
        *match.params_outputs(params, session.target_name, session.settings.original_url),
        None,
        "",
        None,
        "",
    )


def on_refine(session: Session, evals: float | None, seconds: float | None) -> Iterator[tuple[Any, ...]]:
    """Outputs: candidate image, plot, refine status, report, flat JSON, Leva JSON, bb-particles links,
    files, gap picture, starts gallery (the finished match joins it as an attempt). Streams."""
    skip = gr.skip()
    if session.preparing:
        yield (
            skip,
            skip,
            "⏳ The design's first guess is still being made: Refine when it shows.",
            *[skip] * 7,
        )
        return
    if session.target is None or session.params is None:
        yield (skip, skip, "Upload a design first.", *[skip] * 7)
        return
    if (evals or 0) < 0 or (seconds or 0) < 0:  # a −5 used to run one evaluation, as if a budget
        unset = f"0 or empty: no limit on that one; both: {DEFAULT_BUDGET_SECONDS:.0f} s"
        yield (skip, skip, f"⚠️ Budgets are at least 0 ({unset}).", *[skip] * 7)
        return
    if (evals or 0) > match.MAX_REFINE_EVALS or (seconds or 0) > match.MAX_REFINE_SECONDS:
        limits = f"{match.MAX_REFINE_EVALS:,} evaluations and {match.MAX_REFINE_SECONDS:,.0f} seconds"
        yield (skip, skip, f"⚠️ Budgets are at most {limits}.", *[skip] * 7)
        return
    session.cancel_refine()
    target_id, pick_id, target, name = session.target_id, session.pick_id, session.target, session.target_name
    seed, session.refines = session.refines, session.refines + 1
    budget_evals = int(evals) if evals else None
    budget_seconds = float(seconds) if seconds else None
    if budget_evals is None and budget_seconds is None:
        budget_seconds = DEFAULT_BUDGET_SECONDS

    def hold(refiner: Any) -> None:
        session.refine_job = refiner

    session.refining = True
    try:
        for update in match.refine_updates(
            target,
            session.params,
            budget_evals=budget_evals,
            budget_seconds=budget_seconds,
            workers=session.settings.refine_workers,
            alternatives=session.alternatives,
            seed=seed,
            on_start=hold,
        ):
            preview = skip if update.preview is None else match.shown(update.preview)
            if not update.done:
                plot = update.history if update.plot else skip
                yield (preview, plot, update.status, *[skip] * 7)
                continue
            if session.target_id != target_id or update.params is None:
                yield (
                    skip,
                    update.history,
                    update.status + " (a new target was uploaded meanwhile)",
                    *[skip] * 7,
                )
                return
            attempt = (match.attempt_caption(seed, update.report), update.params)
            session.attempts = [attempt, *session.attempts][:MAX_ATTEMPTS]
            gallery = starts_gallery(session)
            if session.pick_id != pick_id:  # the designer picked another start while this one ran
                picked = (
                    " (another start was picked meanwhile: this attempt joins the gallery, the pick stays)"
                )
                yield (skip, update.history, update.status + picked, *[skip] * 6, gallery)
                return
            session.params, session.source, session.report = update.params, "refine", update.report
            session.alternatives = []
            session.refine_job = None
            report = match.report_markdown(update.report, "Match report (refined)")
            shown = match.params_outputs(update.params, name, session.settings.original_url)
            yield (preview, update.history, update.status, report, *shown, skip, gallery)
            if update.preview is not None:  # "what is left" (≈ 0.4 s) follows the match, not before it
                words, picture = match.gap_view(target, update.preview, update.params)
                report += "\n\n" + words
                yield (skip, skip, update.status, report, *[skip] * len(shown), picture, skip)
    except EXPECTED as exc:
        yield (skip, skip, f"⚠️ Refine failed: {exc}", *[skip] * 7)
    except Exception as exc:
        log.exception("refine failed")
        yield (skip, skip, f"⚠️ Refine failed: {type(exc).__name__}: {exc}", *[skip] * 7)
    finally:
        session.refining = False


def starts_gallery(session: Session) -> Any:
    """The gallery of starts (refined attempts, then first guesses) as renders, or no update when they
    cannot be drawn: it is a convenience, the match is shown either way."""
    if session.target is None:
        return gr.skip()
    try:
        renderer, _ = resources.display_renderer(session.settings.renderer)
        return match.guess_gallery(session.gallery(), session.target, renderer)
    except EXPECTED:
        return gr.skip()


def on_stop(session: Session) -> None:
    """The Match tab's Stop: ask the running refine to stop (it ends with the best so far)."""
    session.cancel_refine()


def on_explore_stop(session: Session) -> None:
    """The Explore tab's Stop: ask the running exploration to stop (its finds so far are kept)."""
    session.cancel_explore()


def on_close(session: Session) -> None:
    """The browser session ended: stop whatever it left running."""
    session.cancel_all()


@reported
def on_save_seed(session: Session) -> tuple[Any, ...]:
    """Outputs: save status, pool table, pool thumbnails."""
    if session.refining:  # the image shows the search's best so far, session.params still the start
        running = "A refine is running: Stop it (it keeps the best so far) or let it end, then Save."
        return (running, gr.skip(), gr.skip())
    if session.params is None:
        return ("Nothing to save yet: upload a design first.", gr.skip(), gr.skip())
    store = resources.store_for(session.settings.data_dir)
    seed_id = match.save_seed(store, session.params, session.source, session.target_name, session.report)
    return (f"Saved seed **#{seed_id}** ({session.source}) to the pool.", *pool_views(session))


@reported
def on_full_render(session: Session) -> str | None:
    """Output: the Parameters panel's full-size render (a PNG file), or a warning and no file."""
    if session.refining:  # the image shows the search's best so far, session.params still the start
        gr.Warning("A refine is running: Stop it (it keeps the best so far) or let it end, then render.")
        return None
    if session.params is None or session.target is None:
        gr.Warning("Nothing to render yet: upload a design first.")
        return None
    renderer, note = resources.display_renderer(session.settings.renderer)
    if note:
        gr.Warning(note)
    return match.full_render_file(session.params, session.target, session.target_name, renderer)


# -- pool and Explore --------------------------------------------------------------------------------------


def pool_views(session: Session) -> tuple[Any, Any]:
    """(pool table, pool thumbnails) of the session's store."""
    store = resources.store_for(session.settings.data_dir)
    return pool.seeds_table(store), pool.seed_thumbnails(store)


@reported
def on_pool_refresh(session: Session) -> tuple[Any, Any]:
    """Outputs: pool table, pool thumbnails."""
    return pool_views(session)


def on_pool_select(session: Session, evt: gr.SelectData) -> float | None:
    """Output: the seed id of the clicked table row or thumbnail."""
    if evt.row_value is not None:
        seed_id = int(evt.row_value[0])
    else:
        found = re.match(
            r"#(\d+)", str((evt.value or {}).get("caption", "")) if isinstance(evt.value, dict) else ""
        )
        if not found:
            return gr.skip()
        seed_id = int(found.group(1))
    session.explore_seed_id = seed_id
    return seed_id


@reported
def on_import_refs(session: Session, path: str | None) -> tuple[Any, ...]:
    """Outputs: pool status, pool table, pool thumbnails, the import's file box (cleared)."""
    if not path:
        return ("", gr.skip(), gr.skip(), gr.skip())
    try:
        message = pool.import_refs(resources.store_for(session.settings.data_dir), path)
    except EXPECTED as exc:  # said where the pool's messages go; the file box is cleared for the next try
        return (f"⚠️ Not imported: {exc}", gr.skip(), gr.skip(), None)
    return (message, *pool_views(session), None)


@reported
def on_export_pool(session: Session) -> str | None:
    """Output: the refs.jsonl file of the whole pool."""
    store = resources.store_for(session.settings.data_dir)
    if not store.seeds():  # an empty file handed over without a word
        gr.Warning("The pool is empty: save a match or import a refs.jsonl first.")
        return None
    return pool.export_pool(store)


def _explore_message(text: str) -> tuple[Any, ...]:
    """A status line for the Explore tab that leaves its pictures, plot, run list and pool as they are."""
    return (text, *[gr.skip()] * 6)


def explore_plot(history: Any, budget: int) -> gr.LinePlot:
    """The score plot's update: its x axis spans the run's whole budget from the first point, so it does not
    stretch as the run goes and its ticks fall on whole evaluations."""
    return gr.LinePlot(value=history, x_lim=[0, max(1, budget)])


def on_explore(
    session: Session, start_from: str, seed_id: str | float | None, judge: str, evals: float | None
) -> Iterator[tuple[Any, ...]]:
    """Outputs: explore status, best image, latest candidates, score plot, unfinished runs, pool table
    and thumbnails. Streams."""
    if evals is not None and not 1 <= evals <= explore.MAX_EVALS:  # 0 ran the default 200 without a word
        yield _explore_message(f"⚠️ Evaluations must be from 1 to {explore.MAX_EVALS:,} (empty: 200).")
        return
    store = resources.store_for(session.settings.data_dir)
    if start_from == "current match":
        params, parent = session.params, None
        if params is None:
            yield _explore_message("Upload a design on the Match tab first, or pick a pool seed.")
            return
    else:
        try:
            chosen = whole_id(seed_id, "seed")
        except ValueError as exc:  # 2.6 used to start from seed #3
            yield _explore_message(f"⚠️ {exc}")
            return
        if chosen is None:
            yield _explore_message("Pick a seed: click a thumbnail or a row of the pool.")
            return
        try:
            params, parent = store.get_seed(chosen).params, chosen
        except StoreError as exc:
            yield _explore_message(f"⚠️ {exc}")
            return
    session.cancel_explore()
    budget = int(evals or 200)
    updates = explore.explore_updates(
        params,
        (judge or "").strip() or session.settings.judge,  # "  " was stored as the run's judge
        store,
        evals=budget,
        seed_id=parent,
        workers=session.settings.refine_workers,
        on_start=_holder(session),
    )
    yield from _explore_stream(updates, budget, "⏳ Starting: getting the judge ready…", session)


def on_explore_resume(session: Session, run_id: str | float | None) -> Iterator[tuple[Any, ...]]:
    """Outputs: explore status, best image, latest candidates, score plot, unfinished runs, pool views.
    Streams. Goes on with an unfinished run: the app had no way to (a killed app left its run `running`,
    resumable by CLI only)."""
    try:
        run_id = whole_id(run_id, "run")
    except ValueError as exc:
        yield _explore_message(f"⚠️ {exc}")
        return
    if run_id is None:
        yield _explore_message("Enter the id of an unfinished run (listed above) to resume it.")
        return
    store = resources.store_for(session.settings.data_dir)
    try:
        budget = int(store.get_run(run_id).config.get("evals", 0))
        refused = explore.resume_refusal(store, run_id)
    except StoreError as exc:
        yield _explore_message(f"⚠️ {exc}")
        return
    if refused:
        yield _explore_message(f"⚠️ Not resumed: {refused}")
        return
    session.cancel_explore()
    updates = explore.resume_updates(
        store, run_id, workers=session.settings.refine_workers, on_start=_holder(session)
    )
    resuming = f"⏳ Resuming run {run_id}: getting its judge ready…"
    yield from _explore_stream(updates, budget, resuming, session)


@reported
def on_unfinished_runs(session: Session) -> str:
    """Output: the Explore tab's list of unfinished runs."""
    return explore.unfinished_note(resources.store_for(session.settings.data_dir))


def _holder(session: Session) -> Callable[[Any], None]:
    """on_start for a run: the session holds it, so Stop reaches it."""

    def hold(job: Any) -> None:
        session.explore_job = job

    return hold


def _explore_stream(
    updates: Iterator[explore.ExploreUpdate], budget: int, starting: str, session: Session
) -> Iterator[tuple[Any, ...]]:
    """A run's updates as the Explore tab's outputs (status, best, latest, plot, the unfinished runs, the
    pool's table and thumbnails); its errors as its status line. `starting` is said at once: a VLM judge
    can take seconds to answer (or to be found down), and the last action's words stayed up meanwhile.
    The list of unfinished runs is redrawn at the run's first update, when the run is this app's: a
    resumed run stayed listed as "stopped" beside its own live count. The pool is redrawn when a find
    has added a seed: the status said "8 new seeds" beside a pool of one until the run ended."""
    yield _explore_message(starting)
    store = resources.store_for(session.settings.data_dir)
    listed, newest = False, store.last_seed_id()
    try:
        for update in updates:
            best = gr.skip() if update.best_image is None else update.best_image
            plot = gr.skip() if update.history is None else explore_plot(update.history, budget)
            runs = gr.skip() if listed else on_unfinished_runs(session)
            listed = True
            latest_seed = store.last_seed_id()
            views = pool_views(session) if latest_seed != newest else (gr.skip(), gr.skip())
            newest = latest_seed
            yield (update.status, best, update.latest or gr.skip(), plot, runs, *views)
    except (*EXPECTED, ExploreError) as exc:
        yield _explore_message(f"⚠️ Exploration failed: {exc}")
    except Exception as exc:
        log.exception("exploration failed")
        yield _explore_message(f"⚠️ Exploration failed: {type(exc).__name__}: {exc}")


# -- Gallery -----------------------------------------------------------------------------------------------


@reported
def on_gallery(session: Session, min_score: float, judge: str, sort: str) -> tuple[Any, ...]:
    """Outputs: finds (thumbnails), finds table, gallery status."""
    frame = pool.gallery_table(resources.store_for(session.settings.data_dir), min_score, judge, sort)
    status = f"{len(frame)} finds scoring ≥ {min_score:g}" + (
        f" by judges matching '{judge}'" if judge else ""
    )
    return pool.gallery_items(frame), frame[pool.GALLERY_COLUMNS], status


@reported
def on_find_select(session: Session, table: Any, evt: gr.SelectData) -> tuple[Any, ...]:
    """Outputs: find id, find params JSON, its bb-particles links. Works for a table row or a thumbnail
    (same order)."""
    row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
    if table is None or len(table) <= row:
        return gr.skip(), gr.skip(), gr.skip()
    rating_id = int(table.iloc[row]["id"])
    rating = resources.store_for(session.settings.data_dir).get_rating(rating_id)
    links = match.links_markdown(rating.params, session.settings.original_url, what="find")
    return rating_id, match.params_texts(rating.params)[0], links


@reported
def on_promote(
    session: Session, rating_id: str | float | None, min_score: float = GALLERY_MIN_SCORE
) -> tuple[Any, ...]:
    """Outputs: gallery status, pool table, pool thumbnails."""
    try:
        rating_id = whole_id(rating_id, "find")  # 1.5 used to promote find #2
    except ValueError as exc:
        return (f"⚠️ {exc}", gr.skip(), gr.skip())
    if rating_id is None:
        return ("Pick a find first: click a thumbnail or a row of the finds.", gr.skip(), gr.skip())
    store = resources.store_for(session.settings.data_dir)
    seed_id, new = pool.promote(store, rating_id, min_score)
    if not new:
        return (f"Find #{rating_id} is already seed **#{seed_id}** in the pool.", gr.skip(), gr.skip())
    return (f"Find #{rating_id} promoted to seed **#{seed_id}**.", *pool_views(session))


@reported
def on_export_finds(session: Session, min_score: float, judge: str, sort: str) -> str | None:
    """Output: the refs.jsonl of the finds shown."""
    frame = pool.gallery_table(resources.store_for(session.settings.data_dir), min_score, judge, sort)
    if frame.empty:
        gr.Warning("No finds to export at this threshold.")
        return None
    return pool.export_finds(frame)


# -- Settings ----------------------------------------------------------------------------------------------


def on_save_settings(
    session: Session,
    renderer: str,
    judge: str,
    checkpoint: str,
    data_dir: str,
    workers: float,
    original_url: str = "",
) -> tuple[Any, ...]:
    """Outputs: settings status, pool table, pool thumbnails, explore judge."""
    try:
        updated = session.settings.updated(
            renderer=renderer or "",
            judge=judge or "",
            checkpoint=checkpoint or "",
            data_dir=data_dir or "",
            refine_workers=int(workers or 1),
            original_url=original_url or "",
        )
        resources.renderer_for(updated.renderer)
        create_judge(updated.judge)  # its name and address now, not at the first exploration (no network)
        writable_folder(Path(updated.data_dir).expanduser())  # "is a file, not a folder", not "[Errno 17]"
        resources.store_for(updated.data_dir)
    except EXPECTED as exc:
        return (f"⚠️ Not saved: {exc}", gr.skip(), gr.skip(), gr.skip())
    session.settings = updated
    path = save_settings(session.home, updated)
    return (f"Saved to `{path}`. " + settings_summary(session), *pool_views(session), updated.judge)
