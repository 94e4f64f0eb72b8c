"""The app's glue and handlers without a browser: uploads, match, refine stream, seeds, pool, settings."""

from __future__ import annotations

import dataclasses
import http.server
import itertools
import json
import re
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pytest
import torch
from PIL import Image

from app.ui import explore, handlers, match, pool, resources
from app.ui.session import Session
from app.ui.settings import Settings, load_settings, save_settings, settings_path
from benchmarks.api import free_port
from core.imageio import ImageInputError, save_png, to_uint8
from core.inverse import InverseModel, ModelConfig, save_checkpoint
from core.params import decode, sample_params, validate
from core.refine.finish import COLOUR_TOLERANCE
from core.refine.gap import gap_report
from core.render import get_renderer, render
from core.store import GALLERY_MIN_SCORE

PARAMS = sample_params(1, seed=11, mode="weighted")[0]


@pytest.fixture(autouse=True)
def _fresh_resources():
    yield
    resources.clear()


def _is_skip(value: Any) -> bool:
    return isinstance(value, dict) and value == gr.skip()


def shown(outputs: Any) -> tuple[Any, ...]:
    """What the page shows after a stream of updates: each output's last value that is not a skip."""
    state: list[Any] = []
    for out in outputs:
        state = state or [gr.skip()] * len(out)
        state = [old if _is_skip(new) else new for old, new in zip(state, out, strict=True)]
    return tuple(state)


@pytest.fixture
def target_png(tmp_path: Path) -> Path:
    path = tmp_path / "target.png"
    save_png(render(PARAMS, 320, 180), path)
    return path


@pytest.fixture
def session(tmp_path: Path) -> Session:
    home = tmp_path / "home"
    settings = Settings(data_dir=str(home), checkpoint=str(tmp_path / "absent.pt"), refine_workers=1)
    return Session(settings=settings, home=str(home))


# -- upload handling -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 40], ids=["empty", "text", "cut"]
)
def test_bad_files_are_messages_not_errors(session: Session, tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "design.png"
    bad.write_bytes(content)
    with pytest.raises(ImageInputError, match=r"design\.png"):
        match.load_target(bad)
    out = handlers.on_upload(session, str(bad))
    assert out[0] is None  # the drop zone is reset
    assert out[1].startswith("⚠️") and "design.png" in out[1] and "Traceback" not in out[1]
    assert out[2] is None and out[3] is None and session.target is None


def test_a_wrong_file_dropped_on_a_designs_work_keeps_it(
    session: Session, target_png: Path, tmp_path: Path
) -> None:
    """A text file renamed .png used to cancel the refine and throw away the match and its attempts."""
    handlers.on_upload(session, str(target_png))
    assert list(handlers.on_refine(session, 40, None))[-1][2].startswith("Done")
    params, attempts, target_id = session.params, list(session.attempts), session.target_id
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"not an image at all")
    out = handlers.on_upload(session, str(bad))
    assert out[0] is None and out[1].startswith("⚠️") and "notes.png" in out[1]
    assert "The design shown stays" in out[1] and "target.png" in out[1]
    assert all(_is_skip(value) for value in out[2:])  # the page keeps showing the work
    assert (session.params, session.attempts, session.target_id) == (params, attempts, target_id)
    assert session.target is not None and len(attempts) == 1


def test_an_animated_design_says_its_first_frame_is_matched(session: Session, tmp_path: Path) -> None:
    frames = [Image.fromarray(render(PARAMS, 96, 54, quality="draft")), Image.new("RGB", (96, 54))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    status = handlers.on_upload(session, str(tmp_path / "anim.gif"))[1]
    assert "⚠️ It holds 2 frames; the first is matched." in status and session.params is not None


def test_tiny_image_is_a_message(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    Image.new("RGB", (3, 3)).save(path)
    assert handlers.on_upload(session, str(path))[1].startswith("⚠️")


def test_a_small_design_is_said_and_shown_enlarged(session: Session, tmp_path: Path) -> None:
    """A 16-px design was drawn as a 16-px strip beside 300-px thumbnails, with no word about its size."""
    path = tmp_path / "small.png"
    save_png(render(PARAMS, 16, 9), path)
    status, target, candidate = handlers.on_upload(session, str(path))[1:4]
    assert "only 16×9 px, narrower than the search's 160-px working width" in status
    assert target.shape == (9 * 16, 16 * 16, 3) and candidate.shape[1] >= match.MIN_SHOWN_WIDTH
    np.testing.assert_array_equal(target[::16, ::16], to_uint8(session.target))  # whole pixels, as they are
    assert match.shown(render(PARAMS, 320, 180)).shape == (180, 320, 3)  # wide enough: as it is


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "I;16", "P"])
def test_any_mode_becomes_rgb(tmp_path: Path, mode: str) -> None:
    rgb = Image.fromarray(render(PARAMS, 96, 54))
    image = rgb.convert("RGBA") if mode == "RGBA" else rgb.convert(mode if mode != "I;16" else "L")
    if mode == "I;16":
        image = Image.frombytes("I;16", image.size, (np.asarray(image).astype("<u2") * 257).tobytes())
    path = tmp_path / f"in-{mode.replace(';', '')}.png"
    image.save(path)
    target, name = match.load_target(path)
    assert target.shape == (54, 96, 3) and target.dtype == np.float32 and name == path.name
    assert target.min() >= 0.0 and target.max() <= 1.0


def test_transparent_pixels_are_black(tmp_path: Path) -> None:
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[:, 15:, 3] = 255
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    target, _ = match.load_target(path)
    assert target[:, :15].max() == 0.0 and target[:, 15:].min() == 1.0


# -- match step ----------------------------------------------------------------------------------------------


def test_upload_shows_target_prediction_and_report(session: Session, target_png: Path) -> None:
    t0 = time.perf_counter()
    out = handlers.on_upload(session, str(target_png))
    seconds = time.perf_counter() - t0
    _, status, target, candidate, report, flat, leva, links, files, *_ = out
    assert "target.png" in status and "No inverse-model checkpoint" in status
    assert target.shape == (180, 320, 3) and candidate.shape == (180, 320, 3) and candidate.dtype == np.uint8
    for figure in ("ssim", "ssim_gain", "ssim_skill", "lum_corr", "lpips"):
        assert f"| {figure} |" in report
    validate(json.loads(flat))
    assert "Element.geometry" in json.loads(leva)
    # the match opens in the designer's bb-particles: its c-string draws what the app drew
    cstring = re.search(r"/render\?c=([A-Za-z0-9_-]+)\)", links).group(1)
    assert f"(http://localhost:3000/?c={cstring})" in links and f"```\n{cstring}\n```" in links
    assert np.array_equal(render(decode(cstring), 96, 54), render(session.params, 96, 54))
    assert [Path(f).suffixes[-2:] for f in files] == [[".params", ".json"], [".leva", ".json"]]
    assert session.params is not None and session.report is not None and session.source == "manual"
    print(f"\nupload → prediction + report in the handler: {seconds:.2f} s (no checkpoint: screened start)")


def test_flat_design_is_said_up_front(session: Session, tmp_path: Path, target_png: Path) -> None:
    """A one-colour upload still gets its start, with a warning that no figure can judge a match to it."""
    path = tmp_path / "blank.png"
    Image.new("RGB", (320, 180)).save(path)
    status = handlers.on_upload(session, str(path))[1]
    assert "blank.png" in status and "⚠️ The design is one flat colour (black)" in status
    assert "flat colour" not in handlers.on_upload(session, str(target_png))[1]


def test_an_svg_design_is_matched_like_a_png(session: Session, tmp_path: Path) -> None:
    """Figma exports SVG too: it is drawn on black at its size (at least 1024 px wide) and matched."""
    path = tmp_path / "frame.svg"
    path.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180">'
        '<circle cx="160" cy="90" r="60" stroke="#f5f3e7" stroke-width="3" fill="none"/></svg>'
    )
    _, status, target, candidate, report, *_ = handlers.on_upload(session, str(path))
    assert "**frame.svg** (1024×576)" in status and target.shape == (576, 1024, 3)
    assert "| lum_corr |" in report and candidate.shape == (360, 640, 3)  # shown at the display width


def test_a_hairline_design_is_said_to_be_searched_at_2x(
    session: Session, tmp_path: Path, target_png: Path
) -> None:
    """Figma's 1-px lines on a wide frame are sub-pixel at the search's 160 px (core.refine.supersample)."""
    path = tmp_path / "hairlines.svg"
    rings = "".join(f'<circle cx="826" cy="460" r="{r}"/>' for r in range(60, 421, 60))
    path.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="1652" height="919">'
        f'<g stroke="#f5f3e7" stroke-width="1.5" fill="none">{rings}</g></svg>'
    )
    status = handlers.on_upload(session, str(path))[1]
    assert "so the search draws its candidates at 2×" in status
    assert "at 2×" not in handlers.on_upload(session, str(target_png))[1]


def test_a_border_bar_is_said_up_front(session: Session, tmp_path: Path, target_png: Path) -> None:
    """A screenshot's bar along the edge: the designer hears it on upload, before any refinement."""
    design = save_png(
        render({"geometry": "ring", "repetitions": 40, "scale": 0.5}, 320, 180), tmp_path / "d.png"
    )
    image = np.asarray(Image.open(design)).copy()
    image[:, :2] = 220
    path = tmp_path / "screenshot.png"
    Image.fromarray(image).save(path)
    status = handlers.on_upload(session, str(path))[1]
    assert "⚠️ The design has a bright bar 2 px wide along its left edge" in status
    assert "bright bar" not in handlers.on_upload(session, str(design))[1]


def test_upload_uses_the_checkpoint_when_there_is_one(session: Session, target_png: Path, tmp_path) -> None:
    torch.manual_seed(0)
    model = InverseModel(ModelConfig(backbone="test_resnet", input_size=32, neck=32), pretrained=False)
    ckpt = save_checkpoint(model.eval(), tmp_path / "tiny.pt")
    session.settings = session.settings.updated(checkpoint=str(ckpt))
    status = handlers.on_upload(session, str(target_png))[1]
    # the CNN's prediction, or a retrieval-bank scene that renders closer (core.inverse.guess)
    assert "ranked by rendering" in status and session.source == "cnn"
    assert ("CNN prediction" in status) or ("First guess: bank" in status)
    validate(session.params)
    assert all(validate(p) for p in session.alternatives)


def test_first_guesses_are_shown_and_one_can_be_picked(
    session: Session, target_png: Path, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    model = InverseModel(ModelConfig(backbone="test_resnet", input_size=32, neck=32), pretrained=False)
    ckpt = save_checkpoint(model.eval(), tmp_path / "tiny.pt")
    session.settings = session.settings.updated(checkpoint=str(ckpt))
    out = handlers.on_upload(session, str(target_png))
    gallery = out[-3]
    assert gallery is not None and 2 <= len(gallery) <= match.RACE_STARTS == len(session.choices)
    for (image, caption), (label, _) in zip(gallery, session.choices, strict=True):
        assert image.shape == (135, 240, 3) and caption == label and "loss" in caption
    assert session.params == session.choices[0][1]
    status, candidate, report, flat, *_ = handlers.on_guess_select(
        session, gr.SelectData(None, {"index": 1, "value": None})
    )
    picked = session.choices[1][1]
    assert "picked from the first guesses" in status and session.params == picked
    assert json.loads(flat) == json.loads(match.params_texts(picked)[0])
    assert candidate.shape == (180, 320, 3) and "| lum_corr |" in report
    assert picked not in session.alternatives and len(session.alternatives) == len(session.choices) - 1
    # an out-of-range click changes nothing
    assert all(
        v is not None
        for v in handlers.on_guess_select(session, gr.SelectData(None, {"index": 99, "value": None}))
    )
    assert session.params == picked


def test_fallback_start_prefers_a_close_pool_seed(session: Session, target_png: Path) -> None:
    store = resources.store_for(session.settings.data_dir)
    seed_id = store.add_seed(PARAMS, source="manual")
    target, _ = match.load_target(target_png)
    start = match.start_point(target, None, "no model", store)
    assert f"pool seed #{seed_id}" in start.note and start.params == PARAMS


def test_report_markdown_says_why_lpips_is_missing() -> None:
    image = render(PARAMS, 64, 36)
    text = match.report_markdown(match.compare(image, image))
    assert "| ssim | 1.000 |" in text and "| lpips |" in text
    assert match.BELOW_BLACK_NOTE not in text
    reason = "LPIPS unavailable: AlexNet ImageNet weights not found in /root/.cache/torch/hub/checkpoints (…)"
    row = match.report_markdown({**match.compare(image, image), "lpips": None, "lpips_reason": reason})
    assert "not on this machine" in row and "/root/.cache" not in row  # the path is the admin's, in the log
    failed = {**match.compare(image, image), "lpips": None, "lpips_reason": "LPIPS failed: RuntimeError: x"}
    assert "LPIPS failed: RuntimeError: x" in match.report_markdown(failed)  # a failure is said as it is


def test_what_is_left_says_each_check_once_renderer_limits_first() -> None:
    """The summary paragraph repeated every check's words above the same words in the list."""
    target = render(PARAMS, 160, 90)
    other = render({**PARAMS, "geometry": "square", "color": "#ff4040"}, 160, 90)
    words, picture = match.gap_view(target, other, {**PARAMS, "geometry": "square"})
    findings = gap_report(target, other, {**PARAMS, "geometry": "square"})["findings"]
    assert all(words.count(f["words"]) == 1 for f in findings)
    tally = words.splitlines()[2]
    assert tally.startswith("Renderer limits: ") and sum(f["verdict"] == "ok" for f in findings) == int(
        tally.split("ok: ")[1]
    )
    order = [words.index(f"({match._VERDICTS[f['verdict']]})") for f in findings]
    ranks = [list(match._VERDICTS).index(f["verdict"]) for f in findings]
    assert [rank for _, rank in sorted(zip(order, ranks, strict=True))] == sorted(ranks)
    assert picture.dtype == np.uint8 and picture.shape[2] == 3


def test_report_markdown_points_out_a_match_below_black() -> None:
    """ssim 0.6 reads as a fair score; below ssim_black the report says that black would do better."""
    target = render(PARAMS, 64, 36)
    elsewhere = np.roll(target, 32, axis=1)  # the same light, in the wrong place
    report = match.compare(target, elsewhere)
    assert report["ssim_gain"] < 0
    assert match.BELOW_BLACK_NOTE in match.report_markdown(report)


# -- refine ------------------------------------------------------------------------------------------------


def test_the_score_plot_is_thinned_to_a_bounded_size() -> None:
    """A long run's plot keeps every change of the best score (spread evenly past the limit), each stretch's
    best generation, and the order the plot draws series in (generation first, best on top)."""
    rng = np.random.default_rng(0)
    rows, best = [], 0.0
    for g in range(2000):
        score = float(rng.uniform(0, 1))
        rows.append((15 * g, score, "generation"))
        best = best + 0.01 if g % 40 == 39 else best  # the best improves now and then: 50 steps
        rows.append((15 * g, best, "best"))
    thin = match.thin_history(rows, points=100)
    assert len(thin) <= 2 * 100 + 4 and thin[0] == rows[0] and thin[-1] == rows[-1]
    assert next(r for r in thin if r[2] == "generation") == rows[0]
    kept_best = [r for r in thin if r[2] == "best"]
    best_rows = rows[1::2]
    steps = [k for k in range(1, len(best_rows)) if best_rows[k][1] != best_rows[k - 1][1]]
    assert len(steps) == 50  # under the limit: each step kept, with the row before it (a step, not a slope)
    assert {best_rows[j] for k in steps for j in (k - 1, k)} <= set(kept_best)
    few = [r for r in match.thin_history(rows, points=20) if r[2] == "best"]  # over it: spread evenly
    assert len(few) <= 22 and few[0] == best_rows[0] and few[-1] == best_rows[-1]
    generation = [r for r in thin if r[2] == "generation"]
    assert max(r[1] for r in generation) == max(r[1] for r in rows if r[2] == "generation")
    assert [r[0] for r in thin] == sorted(r[0] for r in thin)  # still in evaluation order
    short = rows[:32]  # 16 generations: the best of each 8, the first row kept for the drawing order
    window = match.GENERATION_WINDOW
    generation = [r for r in match.thin_history(short, points=100) if r[2] == "generation"]
    expected = [max(short[0:16:2], key=lambda r: r[1]), max(short[16:32:2], key=lambda r: r[1])]
    assert window == 8 and generation == sorted({short[0], *expected}, key=lambda r: r[0])


def test_the_thinned_plot_ends_on_a_stretch_best_not_on_a_last_low_generation() -> None:
    """Two searches taking turns (after a completion) leave a low last generation: the thinned series ends
    on its stretch's best, not on that row, which read as a plunge at the end of a good run."""
    rows = []
    for g in range(3000):
        score = 0.89 if g % 2 else 0.74  # the leader and the other search, alternately
        rows += [(4 * g, score, "generation"), (4 * g, 0.9, "best")]
    rows.append((4 * 3000, 0.74, "generation"))  # the other search's generation comes last
    rows.append((4 * 3000, 0.9, "best"))
    generation = [r for r in match.thin_history(rows, points=100) if r[2] == "generation"]
    assert generation[0] == rows[0]  # the first row stays: it sets the series' drawing order
    assert all(r[1] == 0.89 for r in generation[1:])
    assert generation[-1][0] >= 4 * 2970  # and the series still reaches the end of the run


def test_refine_streams_and_the_score_rises(
    session: Session, target_png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refiners = []

    class Recorded(match.Refiner):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            refiners.append(self)

        def run(self) -> Any:
            for event in super().run():
                self.last = event
                yield event

    monkeypatch.setattr(match, "Refiner", Recorded)
    handlers.on_upload(session, str(target_png))
    start = session.params
    outputs, times = [], []
    for out in handlers.on_refine(session, 120, 20):
        outputs.append(out)
        times.append(time.perf_counter())
    final = shown(outputs)
    assert final[2].startswith("Done") and session.source == "refine" and session.params != start
    history = final[1]
    best = history[history["series"] == "best"]["score"].to_numpy()
    assert best[-1] >= best[0] and np.all(np.diff(best) >= 0)
    assert set(history["series"]) == {"best", "generation"}  # the search's; the finish is told in words
    assert f"→ {best[-1]:.3f}" in final[2]  # the search's best…
    finished = match.score_from_loss(refiners[-1].last.best_loss)  # the finished match at the search's size
    losses = refiners[-1].finish.losses(session.params)  # …and what the finish did at the report's size
    full = (match.score_from_loss(losses[0]), match.score_from_loss(losses[1]))
    # the finish keeps a fit only when the report's size scores it better (the colour's may cost a little)
    assert losses[1] <= losses[0] * (1 + COLOUR_TOLERANCE)
    assert match.finished_words(best[-1], finished, full) in final[2]
    assert "Match report (refined)" in final[3] and isinstance(final[0], np.ndarray)
    assert "What is left" in final[3] and "*symmetry*" in final[3]  # the gap analysis, in words
    picture = final[8]  # …and as a picture (red: light the match lacks, cyan: light it adds)
    assert isinstance(picture, np.ndarray) and picture.dtype == np.uint8 and picture.shape[1] == 512
    assert (
        len(handlers.on_upload(session, str(target_png))) == 14
        and handlers.on_upload(session, None)[-2] is None
    )
    gaps = np.diff(times)
    print(f"\nrefine: {len(outputs)} updates, longest gap {gaps.max():.2f} s, mean {gaps.mean():.2f} s")
    assert gaps.max() < 1.0


def test_each_refine_of_a_target_is_a_fresh_attempt_and_the_same_clicks_repeat(
    session: Session, target_png: Path
) -> None:
    """Refining the same start twice runs a new seed (a designer asking again gets another try); a new
    upload starts the count over, so the first attempt comes back exactly."""

    def refine_from(start: dict, alternatives: list) -> tuple[dict, str]:
        session.params, session.alternatives = dict(start), list(alternatives)
        final = shown(handlers.on_refine(session, 60, 30))
        return session.params, final[2]

    handlers.on_upload(session, str(target_png))
    start, alternatives = session.params, session.alternatives
    first, first_status = refine_from(start, alternatives)
    second, second_status = refine_from(start, alternatives)
    assert first_status.startswith("Done (") and "seed" not in first_status
    assert second_status.startswith("Done (") and ", seed 1)" in second_status
    assert second != first
    handlers.on_upload(session, str(target_png))
    assert session.refines == 0 and session.params == start and session.attempts == []
    again, again_status = refine_from(start, alternatives)
    assert again == first and "seed" not in again_status


def test_refined_attempts_join_the_gallery_of_starts_and_can_be_picked_again(
    session: Session, target_png: Path
) -> None:
    """Each finished refine is shown before the first guesses; clicking an earlier one brings it back
    (refining goes on from it alone), clicking a first guess races the other first guesses again."""
    handlers.on_upload(session, str(target_png))
    guesses = list(session.choices)
    finals = []
    for _ in range(2):
        session.params = guesses[0][1]
        final = shown(handlers.on_refine(session, 120, 30))
        finals.append((session.params, final))
    (first, _), (second, final) = finals
    gallery = final[9]
    assert [caption for _, caption in gallery[:2]] == [c for c, _ in session.attempts]
    assert gallery[0][1].startswith("refined, attempt 2 · ssim ") and "attempt 1" in gallery[1][1]
    assert len(gallery) == 2 + len(guesses) and gallery[0][0].shape == (135, 240, 3)
    status, *_ = handlers.on_guess_select(session, gr.SelectData(None, {"index": 1, "value": None}))
    assert "an earlier refinement" in status and session.params == first != second
    assert session.source == "refine" and session.alternatives == []
    status, *_ = handlers.on_guess_select(session, gr.SelectData(None, {"index": 2, "value": None}))
    assert "the first guesses" in status and session.params == guesses[0][1]
    assert session.alternatives == [p for _, p in guesses[1:]]


def test_the_gallery_keeps_the_newest_attempts(session: Session, target_png: Path) -> None:
    from app.ui.session import MAX_ATTEMPTS

    handlers.on_upload(session, str(target_png))
    older = [(f"old {i}", session.params) for i in range(MAX_ATTEMPTS)]
    session.attempts = list(older)
    final = shown(handlers.on_refine(session, 40, 30))
    assert len(session.attempts) == MAX_ATTEMPTS and session.attempts[1:] == older[:-1]
    assert session.attempts[0][0].startswith("refined, attempt 1")
    assert len(final[9]) == MAX_ATTEMPTS + len(session.choices)


def test_the_finished_score_is_told_apart_from_the_search_s_best() -> None:
    assert match.finished_words(0.8123, 0.8126) == ""
    assert match.finished_words(0.86, 0.63) == " in the search, 0.630 after the finish at full size"
    words = match.finished_words(0.831, 0.780, (0.728, 0.765))  # figma-02: worse at 160 px, better at 512
    assert words == (
        " in the search; the finish, fitted at the report's 512 px, took the score there 0.728 → 0.765"
        " (0.780 at the search's size)"
    )
    assert "0.700 → 0.710" in match.finished_words(0.8, 0.8, (0.70, 0.71))  # moved only at 512 px
    assert match.finished_words(0.8, 0.8, (0.70, 0.7001)) == ""


def test_the_status_says_when_the_search_added_mirror_copies() -> None:
    assert match.completion_words(None) == ""
    words = match.completion_words("left-right")
    assert "left-right symmetric" in words and "mirror images as layers" in words


def test_the_status_says_when_a_refine_is_finishing(
    session: Session, target_png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks at full size send no events; the heartbeat says what is going on meanwhile."""
    from core.refine.finish import Finish

    def slow_polish(self: Finish, params: dict, stop: object) -> dict:
        time.sleep(1.5)
        return params

    monkeypatch.setattr(Finish, "polished", slow_polish)
    handlers.on_upload(session, str(target_png))
    statuses = [out[2] for out in handlers.on_refine(session, 60, 20)]
    assert any(s.startswith("Finishing at full size") for s in statuses[:-1])
    assert any(re.match(r"Refining… \d+ of 60 evaluations, [\d.]+ of 20 s", s) for s in statuses)
    assert statuses[-1].startswith("Done")


def test_stop_ends_a_refine_with_the_best_so_far(session: Session, target_png: Path) -> None:
    handlers.on_upload(session, str(target_png))
    stream = handlers.on_refine(session, None, 60)
    first = next(stream)
    assert first[2].startswith("Refining") and session.refine_job is not None
    assert re.match(r"Refining… \d+ evaluations, [\d.]+ of 60 s", first[2])  # how far into the budget
    handlers.on_stop(session)
    rest = list(stream)
    assert "stopped" in rest[-1][2] and session.source == "refine" and session.refine_job is None


def test_picking_a_start_clears_what_the_last_refine_said(session: Session, target_png: Path) -> None:
    """The refine's status, plot, gap picture and "Saved seed" stayed beside a newly picked start."""
    handlers.on_upload(session, str(target_png))
    assert list(handlers.on_refine(session, 40, None))[-1][2].startswith("Done")
    assert handlers.on_save_seed(session)[0].startswith("Saved seed")
    out = handlers.on_guess_select(session, gr.SelectData(None, {"index": 1, "value": None}))
    assert "picked from" in out[0] and session.params == session.gallery()[1][1]
    assert out[7:] == (None, "", None, "")  # plot, refine status, gap picture, save status


def test_the_match_renders_at_the_designs_size_as_a_png(
    session: Session, target_png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's images are previews at most 640 px wide; the designer wants the match at full size."""
    warnings: list[str] = []
    monkeypatch.setattr(gr, "Warning", warnings.append)
    assert handlers.on_full_render(session) is None and "upload a design first" in warnings[-1]
    handlers.on_upload(session, str(target_png))
    path = Path(handlers.on_full_render(session))
    assert path.name == "target.match.png"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (320, 180)  # the design's own size
        drawn = np.asarray(image.convert("RGB"))
    assert np.array_equal(drawn, render(session.params, 320, 180))  # the match, not the preview
    monkeypatch.setattr(match, "FULL_RENDER_MAX", 160)  # a huge design: its longest side capped
    with Image.open(handlers.on_full_render(session)) as image:
        assert image.size == (160, 90)
    stream = handlers.on_refine(session, None, 60)
    next(stream)
    assert handlers.on_full_render(session) is None and "A refine is running" in warnings[-1]
    handlers.on_stop(session)
    list(stream)


def test_refine_without_a_target_says_so(session: Session) -> None:
    assert next(handlers.on_refine(session, 10, 1))[2] == "Upload a design first."


def test_a_start_picked_during_a_refine_stays_the_match(session: Session, target_png: Path) -> None:
    """The pick stops the refine; what that refine finishes with joins the gallery, not the match."""
    handlers.on_upload(session, str(target_png))
    stream = handlers.on_refine(session, None, 60)
    assert next(stream)[2].startswith("Refining")
    status, *_ = handlers.on_guess_select(session, gr.SelectData(None, {"index": 1, "value": None}))
    picked = session.choices[1][1]
    assert session.params == picked and "picked from the first guesses" in status
    final = shown(stream)
    assert "another start was picked meanwhile" in final[2] and session.params == picked
    assert session.source != "refine" and len(session.attempts) == 1
    assert len(final[9]) == 1 + len(session.choices)  # the attempt joined the gallery
    assert all(_is_skip(value) for value in final[3:9])  # report, params and links stay the pick's


def test_refine_waits_for_the_first_guess_of_a_new_upload(
    session: Session, target_png: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Refine clicked while a new design's first guess is made refines nothing: not the last design's
    match against the new design (nor after a failed first guess)."""
    handlers.on_upload(session, str(target_png))
    assert session.params is not None
    seen = []

    def first_guess(*args: Any, **kwargs: Any) -> Any:
        seen.append(next(handlers.on_refine(session, 10, 1))[2])
        raise OSError("no guess")

    monkeypatch.setattr(match, "start_point", first_guess)
    other = tmp_path / "other.png"
    save_png(render({**PARAMS, "geometry": "square"}, 320, 180), other)
    status = handlers.on_upload(session, str(other))[1]
    assert "no guess" in status
    assert seen == ["⏳ The design's first guess is still being made: Refine when it shows."]
    assert session.params is None and not session.preparing
    assert next(handlers.on_refine(session, 10, 1))[2] == "Upload a design first."


def test_save_during_a_refine_asks_to_stop_or_wait(session: Session, target_png: Path) -> None:
    handlers.on_upload(session, str(target_png))
    stream = handlers.on_refine(session, None, 60)
    next(stream)
    status, table, _ = handlers.on_save_seed(session)
    assert status.startswith("A refine is running") and _is_skip(table)
    handlers.on_stop(session)
    list(stream)
    assert handlers.on_save_seed(session)[0].startswith("Saved seed")


# -- seeds, pool, gallery -----------------------------------------------------------------------------------


def test_save_to_pool_writes_a_seed(session: Session, target_png: Path) -> None:
    handlers.on_upload(session, str(target_png))
    status, table, thumbs = handlers.on_save_seed(session)
    store = resources.store_for(session.settings.data_dir)
    [seed] = store.seeds()
    assert f"#{seed.id}" in status and seed.params == session.params and seed.label == "target.png"
    assert "lum_corr" in seed.notes and list(table["id"]) == [seed.id]
    assert thumbs[0][0].shape == (90, 160, 3) and thumbs[0][1].startswith(f"#{seed.id}")


def test_save_without_params_is_a_message(session: Session) -> None:
    assert handlers.on_save_seed(session)[0].startswith("Nothing to save")


def test_pool_import_export_round_trip(session: Session, tmp_path: Path) -> None:
    from core.params import to_prefixed

    refs = tmp_path / "refs.jsonl"
    refs.write_text("".join(json.dumps(to_prefixed(p)) + "\n" for p in sample_params(3, seed=2)))
    with pytest.warns(UserWarning, match="The pool is empty"):  # gr.Warning outside a page is a warning
        assert handlers.on_export_pool(session) is None  # an empty pool: a warning, not an empty file
    message, table, _, cleared = handlers.on_import_refs(session, str(refs))
    assert "3 new seeds" in message and len(table) == 3 and cleared is None
    exported = Path(handlers.on_export_pool(session))
    assert exported.read_text() == refs.read_text()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            '{"Element.geometry": "hexagon", "Scalars.repetitions": 80}\n',
            "bad.jsonl:1: geometry: unknown option",
        ),
        ("\xf6\x00 binary".encode("latin-1"), "bad.jsonl: not UTF-8 text"),
        ('{"Element.geometry": "ring"}\n{oops\n', "bad.jsonl:2: not JSON"),
    ],
)
def test_a_bad_refs_file_is_said_in_the_pool_status_and_imports_nothing(
    session: Session, tmp_path: Path, content: str | bytes, words: str
) -> None:
    """A geometry that does not exist used to be stored (and fail at its first render); a binary file was a
    toast without the file's name; each error only a toast, the bad file left in the drop zone."""
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    status, *_, cleared = handlers.on_import_refs(session, str(bad))
    assert status.startswith("⚠️ Not imported: ") and words in status, status
    assert cleared is None and resources.store_for(session.settings.data_dir).seeds() == []


def test_gallery_filters_sorts_promotes_and_exports(session: Session) -> None:
    store = resources.store_for(session.settings.data_dir)
    draws = sample_params(3, seed=5)
    judges = ["proxy:lite0", "proxy:lite0", "openai:x"]
    for params, score, judge in zip(draws, [9.5, 8.0, 9.0], judges, strict=True):
        store.add_rating(params, score, judge=judge, rationale="glows", image=render(params, 64, 36))
    thumbs, table, status = handlers.on_gallery(session, 9.0, "", "score ↓")
    assert list(table["score"]) == [9.5, 9.0] and "2 finds" in status and len(thumbs) == 2
    assert list(handlers.on_gallery(session, 1.0, "proxy", "oldest")[1]["score"]) == [9.5, 8.0]
    best_id = int(table["id"].iloc[0])
    picked, text, links = handlers.on_find_select(
        session, table, gr.SelectData(None, {"index": [1, 0], "value": None})
    )
    assert picked == int(table["id"].iloc[1]) and validate(json.loads(text)) == validate(draws[2])
    cstring = re.search(r"/render\?c=([A-Za-z0-9_-]+)\)", links).group(1)
    assert "Open this find in bb-particles" in links and validate(decode(cstring)) == validate(draws[2])
    for nothing_picked in (None, 0):  # the id field reads 0 until a find is clicked
        assert handlers.on_promote(session, nothing_picked)[0].startswith("Pick a find first")
    message, pool_table, _ = handlers.on_promote(session, best_id)
    assert "promoted" in message and store.seeds()[0].rating_id == best_id and len(pool_table) == 1
    again = handlers.on_promote(session, best_id)[0]  # a second click used to add a copy
    assert again == f"Find #{best_id} is already seed **#{store.seeds()[0].id}** in the pool."
    assert len(store.seeds()) == 1
    with pytest.raises(gr.Error, match="No find #424242"):
        handlers.on_promote(session, 424242)
    low_id = int(handlers.on_gallery(session, 1.0, "", "score ↓")[1]["id"].iloc[-1])  # the 8.0
    with pytest.raises(gr.Error, match=rf"Rating #{low_id} scores 8, below the gallery's 'Score at least' 9"):
        handlers.on_promote(session, low_id, 9.0)  # any rating id used to be promoted
    assert "promoted" in handlers.on_promote(session, low_id, 8.0)[0]  # shown once the gallery goes to 8
    assert "whole number, not 1.5" in handlers.on_promote(session, 1.5)[0]  # used to promote #2
    lines = Path(handlers.on_export_finds(session, 9.0, "", "score ↓")).read_text().splitlines()
    assert len(lines) == 2 and "Element.geometry" in lines[0]


def test_promote_adds_the_find_itself_not_the_closed_loops_reading_of_it(session: Session) -> None:
    """The closed loop's seed of a find is the inverse model's reading of its render; Promote used to say
    "already seed #N" pointing at that other design."""
    store = resources.store_for(session.settings.data_dir)
    find, reading = sample_params(2, seed=8)
    rating_id = store.add_rating(find, 9.5, judge="proxy")
    loop_seed = store.promote(rating_id, params=reading, source="cnn")
    message, *_ = handlers.on_promote(session, rating_id)
    [new] = [seed for seed in store.seeds() if seed.id != loop_seed]
    assert message == f"Find #{rating_id} promoted to seed **#{new.id}**."
    assert new.params == find and new.source == "explore" and new.rating_id == rating_id


def test_explore_adapter_streams_a_real_run(session: Session) -> None:
    """The adapter drives core.explore with the proxy judge: updates stream, the run lands in the store."""
    store = resources.store_for(session.settings.data_dir)
    updates = list(explore.explore_updates(PARAMS, "proxy", store, evals=8))
    assert updates[-1].done and "8/8 evaluations" in updates[-1].status
    assert updates[-1].best_score is not None and 1 <= updates[-1].best_score <= 10
    assert any(u.latest for u in updates)  # candidate thumbnails with their scores
    [run] = store.runs(kind="explore")
    assert run.status == "done" and len(store.ratings(run_id=run.id)) == 8
    assert store.get_seed(run.seed_id).source == "manual"  # the current match, saved as the run's seed
    history = updates[-1].history  # the score plot: best so far, each generation's best, the threshold
    assert history is not None and list(history.columns) == explore.HISTORY_COLUMNS
    best = history[history.series == "best so far"]
    assert best.evaluations.is_monotonic_increasing and best.score.is_monotonic_increasing
    assert best.score.iloc[-1] == updates[-1].best_score and best.evaluations.iloc[-1] == 8
    generation = history[history.series == "generation best"]
    both = generation.merge(best, on="evaluations", suffixes=("_generation", "_best"))
    assert len(both) == len(generation) > 0 and (both.score_generation <= both.score_best).all()
    assert set(history[history.series == "find threshold"].score) == {9.0}


def test_explore_renders_with_the_apps_worker_setting(session: Session) -> None:
    """The app's explorations and refines use one worker setting, so they share one pool (core.shared_pool)
    instead of shutting down each other's pool of another size."""
    session.settings = session.settings.updated(refine_workers=1)
    store = resources.store_for(session.settings.data_dir)
    seed_id = store.add_seed(PARAMS, source="manual")
    *_, last = handlers.on_explore(session, "pool seed", seed_id, "proxy", 4)
    assert "4/4 evaluations" in last[0]
    [run] = store.runs(kind="explore")
    assert run.config["workers"] == 1  # the default exploration would render with 2


def test_the_status_says_how_finds_became_seeds_in_words() -> None:
    assert explore.seed_words("cnn: inverse model") == (
        ", each the inverse model's reading of the find's image: the closed loop"
    )
    assert explore.seed_words("extraction skipped: no checkpoint") == "; extraction skipped: no checkpoint"


def test_judge_scores_read_as_on_a_ten_point_scale() -> None:
    assert [pool.score_text(x) for x in (7.0, 10.0, 6.9593, 1.0, 9.25)] == ["7", "10", "6.96", "1", "9.25"]


def test_explore_plot_skips_failed_judgements() -> None:
    """A generation whose judge failed adds no point of its own; no point at all before any score."""
    from core.explore import ExploreEvent
    from core.explore.events import Evaluated

    def event(best: float | None, scores: list[float | None]) -> ExploreEvent:
        latest = tuple(Evaluated(i, {}, s, s or 0.0, i, "") for i, s in enumerate(scores))
        return ExploreEvent(1, 4, 10, 1, best, None, None, latest, (), (), 0, "", 0.0)

    assert explore.history_rows(event(None, [None, None]), 9.0) == []
    assert explore.history_rows(event(6.0, [None]), 9.0) == [
        (4, 6.0, "best so far"),
        (4, 9.0, "find threshold"),
    ]
    rows = explore.history_rows(event(6.0, [3.0, None, 5.0]), 8.5)
    # the plot draws series in the order they first appear: the best so far goes over a generation's
    # best, which it equals whenever a generation brings a new best
    assert rows == [(4, 5.0, "generation best"), (4, 6.0, "best so far"), (4, 8.5, "find threshold")]


def test_an_exploration_without_one_usable_score_says_so() -> None:
    from core.explore import ExploreEvent
    from core.explore.events import Evaluated

    failed = tuple(Evaluated(i, {}, None, 0.0, i, "") for i in range(4))
    done = ExploreEvent(
        3, 4, 4, 1, None, None, None, failed, (), (), 0, "", 1.0, done=True, stop_reason="budget"
    )
    status = explore._to_update(done).status
    assert status.startswith("⚠️ Done run 3: 4/4 evaluations, best —") and explore.NO_SCORE in status


def test_the_explore_plots_best_so_far_is_a_step_where_a_candidate_beat_it() -> None:
    """Not a straight line from one generation's end to the next: flat until the evaluation that beat the
    best, up over that one, flat after."""
    from core.explore import ExploreEvent
    from core.explore.events import Evaluated

    scores = {1: None, 2: 3.0, 5: 6.96, 7: 2.0}  # step (the evaluation's index from 0) → judge score
    latest = tuple(Evaluated(step, {}, s, s or 0.0, step, "") for step, s in scores.items())
    event = ExploreEvent(1, 10, 10, 1, 6.96, None, None, latest, (), (), 0, "", 0.0)
    best = [(x, y) for x, y, series in explore.history_rows(event, 9.0, 1.0) if series == "best so far"]
    assert best == [(2, 1.0), (3, 3.0), (5, 3.0), (6, 6.96), (10, 6.96)]
    xs = [x for x, _ in best]
    assert xs == sorted(xs) and all(a != b or ya == yb for (a, ya), (b, yb) in itertools.pairwise(best))
    first = [row for row in explore.history_rows(event, 9.0) if row[2] == "best so far"]
    assert first == [(10, 6.96, "best so far")]  # the seed's event has no best before it to step from
    # a generation's first and last candidates beating it: no second point where one already stands
    edges = tuple(Evaluated(step, {}, s, s, step, "") for step, s in ((10, 7.0), (15, 6.5), (19, 8.0)))
    event = ExploreEvent(1, 20, 40, 2, 8.0, None, None, edges, (), (), 0, "", 0.0)
    best = [(x, y) for x, y, series in explore.history_rows(event, 9.0, 6.0) if series == "best so far"]
    assert best == [(11, 7.0), (19, 7.0), (20, 8.0)]


def test_the_explore_plot_spans_the_run_s_budget(session: Session) -> None:
    """The plot's updates hold the x axis at the whole budget, so its ticks are whole evaluations."""
    store = resources.store_for(session.settings.data_dir)
    seed = store.add_seed(PARAMS, source="manual", label="plot test")
    outs = list(handlers.on_explore(session, "pool seed", float(seed), "proxy", 6))
    plots = [out[3] for out in outs if isinstance(out[3], gr.LinePlot)]
    assert plots and all(plot.x_lim == [0, 6] for plot in plots)
    assert plots[-1].value is not None


def test_the_pool_is_redrawn_during_a_run_when_a_find_adds_a_seed(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status said "8 new seeds" beside a pool of one until the run ended."""
    store = resources.store_for(session.settings.data_dir)
    seed = store.add_seed(PARAMS, source="manual")

    def updates(*args: Any, **kwargs: Any) -> Any:
        update = explore.ExploreUpdate("Exploring…", 1, 5.0, None, [], False, None)
        yield update
        store.add_seed({**PARAMS, "repetitions": 33}, source="explore", parent_id=seed)  # a find's seed
        yield update
        yield dataclasses.replace(update, done=True)

    monkeypatch.setattr(explore, "explore_updates", updates)
    outs = list(handlers.on_explore(session, "pool seed", seed, "proxy", 10))
    pools = [out[5] for out in outs[1:]]
    assert _is_skip(pools[0]) and not _is_skip(pools[1]) and _is_skip(pools[2])
    assert len(pools[1]) == 2  # the redrawn table holds the new seed


def test_id_fields_are_text_read_as_whole_numbers(session: Session) -> None:
    """gradio 6 drew an empty gr.Number as "0" (its placeholder never seen): the ids are text fields now."""
    assert [handlers.whole_id(v, "seed") for v in (None, "", "  ", "0", "12", " #7 ", 12, 12.0)] == [
        None,
        None,
        None,
        None,
        12,
        7,
        12,
        12,
    ]
    for bad in ("abc", "2.6", 2.6, "-3"):
        with pytest.raises(ValueError, match="A seed id is a whole number"):
            handlers.whole_id(bad, "seed")
    assert "Pick a seed" in next(handlers.on_explore(session, "pool seed", "", "proxy", 4))[0]
    assert "not 'x1'" in next(handlers.on_explore(session, "pool seed", "x1", "proxy", 4))[0]
    assert "Enter the id" in next(handlers.on_explore_resume(session, ""))[0]
    assert "Pick a find first" in handlers.on_promote(session, "")[0]


def test_the_explore_tab_says_what_a_run_does_with_its_finds(session: Session) -> None:
    """The note was empty: a find's pool seed (the inverse model's reading) looked unlike the find, unsaid."""
    outputs = handlers.on_load(session)
    note = outputs[8]
    assert note == handlers.EXPLORE_HOW and "closed loop" in note and "Promote to seed" in note
    assert f"≥ {GALLERY_MIN_SCORE:g}" in note and outputs[7] == session.settings.judge


def test_explore_handler_says_what_to_pick(session: Session) -> None:
    """Without a seed or a match the handler answers in the status line and leaves the rest, plot included."""
    [out] = list(handlers.on_explore(session, "pool seed", None, "proxy", 10))
    assert "Pick a seed" in out[0] and len(out) == 7
    [out] = list(handlers.on_explore(session, "current match", None, "proxy", 10))
    assert "Upload a design" in out[0] and len(out) == 7
    for evals in (0, 1e30):  # 0 used to run 200; 1e30 broke gradio's JSON while the run went on unseen
        [out] = list(handlers.on_explore(session, "pool seed", 1, "proxy", evals))
        assert "Evaluations must be from 1 to 100,000" in out[0]
    [out] = list(handlers.on_explore(session, "pool seed", 2.6, "proxy", 4))  # used to start from seed 3
    assert "A seed id is a whole number, not 2.6" in out[0]
    assert resources.store_for(session.settings.data_dir).runs() == []


def test_a_repeated_exploration_asks_new_candidates_and_adds_no_copies(session: Session) -> None:
    """Start twice from one seed: the second run has its own optimiser seed (it used to repeat the first,
    judging the same candidates and adding their finds again); the current match is saved once."""
    store = resources.store_for(session.settings.data_dir)
    session.params = PARAMS
    for _ in range(2):
        *_, last = handlers.on_explore(session, "current match", None, "proxy", 6)
        assert "6/6 evaluations" in last[0]
    first, second = sorted(store.runs(kind="explore"), key=lambda run: run.id)
    assert first.seed_id == second.seed_id and len(store.seeds()) == 1
    assert (first.config["rng_seed"], second.config["rng_seed"]) == (0, 1)
    asked = [{r.params_hash for r in store.ratings(run_id=run.id) if r.step} for run in (first, second)]
    assert asked[0] and not asked[0] & asked[1]


def test_an_interrupted_exploration_is_listed_and_resumed_in_the_app(session: Session) -> None:
    """A run left `running` by a killed app (or stopped) is listed on the Explore tab and resumes there,
    judging only the steps it had not judged; the app had no Resume (the CLI's --resume only)."""
    store = resources.store_for(session.settings.data_dir)
    seed = store.add_seed(PARAMS, source="manual")
    updates = explore.explore_updates(PARAMS, "proxy", store, evals=10, seed_id=seed)
    next(updates), next(updates)  # the seed's event and one generation, then the app "dies"
    run_id = store.runs(kind="explore")[0].id
    assert explore.unfinished_note(store) == ""  # running here: not offered for resume
    judged = len(store.ratings(run_id=run_id))
    updates.close()  # a killed process leaves `running`; closing marks it cancelled, so set it back
    store.resume_run(run_id)
    note = handlers.on_unfinished_runs(session)
    assert f"run **{run_id}** from seed {seed}: {judged} of 10 evaluations, interrupted" in note
    first, running, *_, last = handlers.on_explore_resume(session, run_id)
    assert first[0] == f"⏳ Resuming run {run_id}: getting its judge ready…"  # said before the judge is asked
    assert running[4] == "" and all(_is_skip(out[4]) for out in [first, last])  # no longer listed as stopped
    assert last[0].startswith(f"Done run {run_id}: 10/10 evaluations"), last[0]
    assert len(store.ratings(run_id=run_id)) == 10 and store.get_run(run_id).status == "done"
    assert handlers.on_unfinished_runs(session) == ""
    [out] = list(handlers.on_explore_resume(session, run_id))
    assert out[
        0
    ] == f"⚠️ Not resumed: Run {run_id} has finished (10 evaluations): nothing is left to resume; " + (
        "start a new exploration from its seed for more."
    )
    [out] = list(handlers.on_explore_resume(session, 99))
    assert out[0] == "⚠️ no run with id 99"


def test_an_all_space_judge_runs_and_records_the_settings_judge(session: Session) -> None:
    store = resources.store_for(session.settings.data_dir)
    seed = store.add_seed(PARAMS, source="manual")
    *_, last = handlers.on_explore(session, "pool seed", seed, "   ", 3)
    assert "3/3 evaluations" in last[0]
    [run] = store.runs(kind="explore")
    assert run.config["judge"] == session.settings.judge == "proxy"  # "   " could not be resumed


def test_the_match_and_explore_tabs_stop_only_their_own_work(session: Session, target_png: Path) -> None:
    """One job slot made an upload, a Refine or the Match tab's Stop end a running exploration unsaid
    (and the Explore tab's Stop end a refine): an audit in the browser."""
    store = resources.store_for(session.settings.data_dir)
    seed = store.add_seed(PARAMS, source="manual")
    exploring = handlers.on_explore(session, "pool seed", seed, "proxy", 20)
    next(exploring), next(exploring), next(exploring)  # the judge is ready and the run is held
    assert session.explore_job is not None
    handlers.on_upload(session, str(target_png))
    refining = handlers.on_refine(session, None, 60)
    assert next(refining)[2].startswith("Refining") and session.refine_job is not None
    handlers.on_stop(session)  # the Match tab's Stop
    assert "stopped" in list(refining)[-1][2]
    *_, last = exploring
    assert last[0].startswith("Done run") and "20/20 evaluations" in last[0]  # not stopped by the Match tab
    refining = handlers.on_refine(session, None, 60)
    next(refining)
    exploring = handlers.on_explore(session, "pool seed", seed, "proxy", 20)
    next(exploring), next(exploring), next(exploring)
    handlers.on_explore_stop(session)  # the Explore tab's Stop
    assert list(exploring)[-1][0].startswith("Stopped run")
    assert session.refine_job is not None and not next(refining)[2].startswith("Done")  # the refine runs on
    handlers.on_close(session)
    assert "stopped" in list(refining)[-1][2] and session.refine_job is None and session.explore_job is None


def test_a_stopped_exploration_says_where_it_stopped() -> None:
    from core.explore import ExploreEvent

    stopped = ExploreEvent(
        7, 12, 200, 2, 6.5, None, None, (), (), (), 0, "", 1.0, done=True, stop_reason="cancelled"
    )
    assert explore._to_update(stopped).status.startswith("Stopped run 7 at 12 of 200 evaluations, best 6.5")


def test_an_exploration_whose_judge_fails_saves_no_seed(session: Session, target_png: Path) -> None:
    """Explore from the current match with a VLM server that is down, or a judge that does not exist: the
    run fails at once and the pool gains nothing (it used to gain the match as an 'exploration start')."""
    handlers.on_upload(session, str(target_png))
    store = resources.store_for(session.settings.data_dir)
    for judge in (f"openai:http://127.0.0.1:{free_port()}/v1#m", "banana"):
        *_, last = handlers.on_explore(session, "current match", None, judge, 8)
        assert last[0].startswith("⚠️ Exploration failed") and store.seeds() == [], last[0]


def test_a_negative_refine_budget_is_a_message(session: Session, target_png: Path) -> None:
    handlers.on_upload(session, str(target_png))
    for evals, seconds in ((-5, None), (None, -3)):  # they used to run one evaluation each
        [out] = list(handlers.on_refine(session, evals, seconds))
        assert out[2].startswith("⚠️ Budgets are at least 0") and session.source != "refine"
    for evals, seconds in ((1e30, None), (None, 1e12)):
        [out] = list(handlers.on_refine(session, evals, seconds))
        assert out[2].startswith("⚠️ Budgets are at most 1,000,000 evaluations") and session.source != "refine"


# -- settings ----------------------------------------------------------------------------------------------


def test_settings_persist_between_launches(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert load_settings(home).data_dir == str(home)
    saved = Settings(renderer="http://localhost:3000/api/raster", judge="openai:http://h/v1#m", data_dir="x")
    save_settings(home, saved)
    assert load_settings(home) == saved


def test_broken_settings_file_gives_defaults(tmp_path: Path) -> None:
    settings_path(tmp_path).write_text("{not json")
    assert load_settings(tmp_path).renderer == "local"
    settings_path(tmp_path).write_text(json.dumps({"judge": "proxy", "unknown": 1, "refine_workers": 0}))
    assert load_settings(tmp_path).refine_workers == 1


def test_settings_tab_saves_and_new_sessions_read_them(session: Session, tmp_path: Path) -> None:
    store_dir = tmp_path / "elsewhere"
    out = handlers.on_save_settings(session, "local", "proxy", session.settings.checkpoint, str(store_dir), 2)
    assert out[0].startswith("Saved") and (store_dir / "bb.sqlite3").exists()
    fresh = handlers.new_session(session.home)
    assert fresh.settings.data_dir == str(store_dir) and fresh.settings.refine_workers == 2
    bad = handlers.on_save_settings(session, "ftp://nope", "proxy", "", str(store_dir), 1)
    assert bad[0].startswith("⚠️ Not saved") and load_settings(session.home).renderer == "local"
    for judge in ("banana", "openai:not a url"):  # used to be saved, and fail at the first exploration
        bad = handlers.on_save_settings(session, "local", judge, "", str(store_dir), 1)
        assert bad[0].startswith("⚠️ Not saved") and load_settings(session.home).judge == "proxy"
    a_file = tmp_path / "afile"
    a_file.write_text("")
    bad = handlers.on_save_settings(session, "local", "proxy", "", str(a_file), 1)
    assert bad[0] == f"⚠️ Not saved: {a_file} is a file, not a folder"  # not "[Errno 17] File exists"
    assert load_settings(session.home).data_dir == str(store_dir)


def test_an_original_renderer_that_is_down_does_not_lose_the_first_guess(
    session: Session, target_png: Path
) -> None:
    """Settings name an original /api/raster that is not running: the first guess is still found (with the
    twin, as always), shown drawn by the twin, and the status says what to start; a click in the gallery
    likewise. It used to fail the whole upload after ≈ 10 s of retries."""
    down = f"http://127.0.0.1:{free_port()}/api/raster"  # nothing listens there
    session.settings = dataclasses.replace(session.settings, renderer=down)
    started = time.perf_counter()
    out = handlers.on_upload(session, str(target_png))
    status, candidate = out[1], out[3]
    assert "Cannot reach the bb-particles renderer" in status and "npm run dev" in status
    assert "Shown with the local renderer twin meanwhile" in status
    assert isinstance(candidate, np.ndarray) and session.params is not None
    assert np.array_equal(candidate, match.render_like(session.params, session.target, get_renderer("local")))
    assert time.perf_counter() - started < 8  # one try, not the retries a render gets
    picked = handlers.on_guess_select(session, gr.SelectData(None, {"index": 1, "value": None}))
    assert "Shown with the local renderer twin" in picked[0] and isinstance(picked[1], np.ndarray)
    summary = handlers.settings_summary(session)  # Settings say so too
    assert f"Renderer **{down}** (not answering now: the Match tab draws with the local twin" in summary


def test_the_bb_particles_address_is_a_setting(session: Session, target_png: Path) -> None:
    """The links open the designer's own bb-particles, wherever it runs; its /api/raster URL also works."""
    args = (session, "local", "proxy", session.settings.checkpoint, session.settings.data_dir, 1)
    closed = free_port()  # nothing listens there: the status says what to start
    out = handlers.on_save_settings(*args, f"127.0.0.1:{closed}/api/raster/")
    assert out[0].startswith("Saved") and f"links open http://127.0.0.1:{closed} (not answering now" in out[0]
    assert handlers.new_session(session.home).settings.original_url == f"http://127.0.0.1:{closed}"
    links = handlers.on_upload(session, str(target_png))[7]
    root = f"http://127.0.0.1:{closed}"
    assert f"({root}/?c=" in links and f"({root}/render?c=" in links
    for address in ("ftp://studio.local", "not a url", "javascript:alert(1)"):  # the last two were saved
        bad = handlers.on_save_settings(*args, address)
        assert bad[0].startswith("⚠️ Not saved") and "http(s) address" in bad[0], bad[0]
    assert load_settings(session.home).original_url == root
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        out = handlers.on_save_settings(*args, f"http://127.0.0.1:{port}")
        server.shutdown()
    assert f"links open http://127.0.0.1:{port} (answering)" in out[0]


def test_settings_say_whether_a_vlm_judge_answers(session: Session) -> None:
    """A judge server that is down was saved without a word; the first exploration found it, 7.6 s in."""
    args = (session, "local")
    rest = (session.settings.checkpoint, session.settings.data_dir, 1)
    closed = free_port()
    out = handlers.on_save_settings(*args, f"openai:http://127.0.0.1:{closed}/v1#qwen", *rest)
    assert out[0].startswith("Saved")
    assert f"(not answering now: start the VLM server at http://127.0.0.1:{closed}/v1" in out[0]
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        out = handlers.on_save_settings(*args, f"openai:http://127.0.0.1:{port}/v1#qwen", *rest)
        server.shutdown()
    assert f"judge **openai:http://127.0.0.1:{port}/v1#qwen** (answering)" in out[0]
    assert handlers.judge_state("proxy") == ""


def test_sessions_are_independent(tmp_path: Path, target_png: Path) -> None:
    a, b = handlers.new_session(str(tmp_path)), handlers.new_session(str(tmp_path))
    handlers.on_upload(a, str(target_png))
    assert a.target is not None and b.target is None and b.params is None


def test_server_mounts_the_api_beside_the_ui(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from app.ui.server import create_server

    with TestClient(create_server(str(tmp_path), warm=False)) as client:
        assert client.get("/api/raster", params={"health": ""}).json()["ok"] is True
        reply = client.post("/api/raster", params={"size": 64}, json={"geometry": "ring"})
        assert reply.status_code == 200 and reply.headers["content-type"] == "image/jpeg"
        assert client.get("/").status_code == 200


def test_the_pool_is_shown_again_after_an_exploration(tmp_path: Path) -> None:
    """An exploration adds its finds' seeds to the pool; the Explore tab's pool views are refreshed when it
    ends (they kept showing the one seed explored from, beside "7 finds ≥ threshold (7 new seeds)")."""
    from app.ui.layout import build_ui

    demo = build_ui(str(tmp_path))
    explore_id = next(i for i, f in demo.fns.items() if f.fn is handlers.on_explore)
    after = [f for f in demo.fns.values() if f.trigger_after == explore_id]
    assert [f.fn for f in after] == [handlers.on_pool_refresh]
    refresh = next(f for f in demo.fns.values() if f.fn is handlers.on_save_seed)  # the pool's views
    assert [o._id for o in after[0].outputs] == [o._id for o in refresh.outputs[1:]]


def test_a_handler_error_is_a_message_without_a_console_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """Gradio printed the traceback of every gr.Error to the server's console (8 in a short session of
    mistakes); an unexpected error is logged once, by the handler."""

    @handlers.reported
    def expected() -> None:
        raise ValueError("the budget must be positive")

    @handlers.reported
    def unexpected() -> None:
        raise KeyError("boom")

    with pytest.raises(gr.Error) as caught:
        expected()
    assert caught.value.message == "the budget must be positive" and caught.value.print_exception is False
    with caplog.at_level("ERROR", logger="app.ui"), pytest.raises(gr.Error) as caught:
        unexpected()
    assert caught.value.print_exception is False and "unexpected failed: KeyError" in caught.value.message
    assert [r.message for r in caplog.records] == ["unexpected failed"]


def test_the_pool_table_shows_parents_as_whole_numbers_and_blanks_for_none(session: Session) -> None:
    """A missing parent made the column float ("1.0"), and filling it with "" is refused by pandas 4."""
    store = resources.store_for(session.settings.data_dir)
    first = store.add_seed(PARAMS, source="manual")
    store.add_seed({**PARAMS, "repetitions": 33}, source="explore", parent_id=first)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = pool.seeds_table(store)
    assert list(table["parent_id"]) == [first, ""] and list(table["id"]) == [first + 1, first]


def test_empty_id_fields_say_what_goes_in_them_not_zero(tmp_path: Path) -> None:
    """Gradio 6 draws an empty gr.Number as "0", placeholder or not: the Seed id, Resume run and Find id
    fields read as if seed 0 or run 0 were chosen (two browser audits). They are text fields."""
    from app.ui.layout import build_ui

    demo = build_ui(str(tmp_path))
    labels = {"Seed id", "Resume run", "Find id"}
    ids = [c for c in demo.blocks.values() if getattr(c, "label", None) in labels]
    assert {c.label for c in ids} == labels and all(isinstance(c, gr.Textbox) for c in ids)
    assert all(c.placeholder and not c.value for c in ids), [c.label for c in ids if not c.placeholder]


def test_the_pages_css_reaches_the_browser(tmp_path: Path) -> None:
    """gradio 6 takes CSS at mount, not in Blocks: the report's column rule and the starts gallery's full
    height were defined and never sent (the audit saw the table wrap "valu/e" and the gallery cut off)."""
    from fastapi.testclient import TestClient

    from app.ui.layout import CSS
    from app.ui.server import create_server

    with TestClient(create_server(str(tmp_path), api=False, warm=False)) as client:
        config = client.get("/config").json()
    assert config["css"] == CSS and "#guess-gallery" in CSS and "#match-report" in CSS
