"""Gap analysis: each check names the difference it was built for, and stays quiet on a perfect match."""

from __future__ import annotations

import numpy as np
import pytest

from core.refine.gap import (
    analyse_gap,
    ceiling_words,
    gap_picture,
    gap_report,
    hue_words,
    palette,
    stroke_width,
)
from core.render import render

W, H = 320, 180


def _canvas() -> np.ndarray:
    return np.zeros((H, W, 3), np.float32)


def _strokes(
    x0: int, x1: int, width: int = 1, colour=(1.0, 0.97, 0.86), rows=range(30, 150, 12)
) -> np.ndarray:
    """Horizontal lines of `width` px between columns x0 and x1: a stand-in for a stroke design."""
    image = _canvas()
    for y in rows:
        image[y : y + width, x0:x1] = colour
    return image


def _by_aspect(findings):
    return {f.aspect: f for f in findings}


def test_a_perfect_match_leaves_nothing_to_name():
    image = render({"geometry": "ring", "repetitions": 60, "scale": 0.8}, W, H)
    findings = _by_aspect(analyse_gap(image, image, {"geoWidth": 0.04}))
    assert {f.verdict for f in findings.values()} == {"ok"}
    words = ceiling_words(list(findings.values()))
    assert "No renderer limit" in words and "Nothing left to the search" in words


def test_light_in_the_wrong_half_is_placed_and_located():
    target, candidate = _strokes(20, 120), _strokes(200, 300)
    placement = _by_aspect(analyse_gap(target, candidate))["light placement"]
    assert placement.verdict == "search"
    assert placement.numbers["misplaced"] > 0.9
    assert "left" in placement.numbers["missing_at"] and "right" in placement.numbers["extra_at"]


def test_a_black_render_misses_all_the_light():
    placement = _by_aspect(analyse_gap(_strokes(20, 300), _canvas()))["light placement"]
    assert placement.verdict == "search" and placement.numbers["misplaced"] == 1.0


def test_point_symmetry_the_render_lacks_is_named_with_how_to_draw_it():
    half = _strokes(20, 140, rows=range(10, 80, 8))
    target = half + half[::-1, ::-1]  # the same figure turned 180° about the centre
    symmetry = _by_aspect(analyse_gap(target, half))["symmetry"]
    assert symmetry.verdict == "search"
    assert symmetry.numbers["target"]["180° rotation"] > 0.95
    assert "180° rotation" in symmetry.words and "layer" in symmetry.words


def test_a_wrong_hue_is_a_colour_gap_and_two_hues_need_two_layers():
    cream, green = _strokes(20, 300), _strokes(20, 300, colour=(0.3, 1.0, 0.3))
    colour = _by_aspect(analyse_gap(cream, green))["colour"]
    assert colour.verdict == "search" and "neutral" in colour.words
    two = _strokes(20, 150, colour=(1.0, 0.1, 0.1)) + _strokes(170, 300, colour=(0.1, 0.2, 1.0))
    assert len(palette(two)["hues"]) == 2
    needs = _by_aspect(analyse_gap(two, two, {"color": "#ff0000", "layers": [{}]}))["colour"]
    assert needs.verdict == "search" and "2 layers" in needs.words
    assert "red (" in needs.words and "blue (" in needs.words  # hues named, not only in degrees
    assert "green (" in _by_aspect(analyse_gap(green, cream))["colour"].words


def test_hues_are_named_as_a_designer_reads_them():
    assert [hue_words(h) for h in (0, 30, 55, 120, 180, 220, 270, 300, 350, 365)] == [
        "red (0°)",
        "orange (30°)",
        "yellow (55°)",
        "green (120°)",
        "cyan (180°)",
        "blue (220°)",
        "violet (270°)",
        "magenta (300°)",
        "red (350°)",
        "red (5°)",
    ]


def test_strokes_too_thick_are_the_search_until_the_tube_is_at_its_thinnest():
    thin, thick = _strokes(20, 300, width=1), _strokes(20, 300, width=5)
    assert stroke_width(luminance_of(thick)) == pytest.approx(5.0, rel=0.3)
    search = _by_aspect(analyse_gap(thin, thick, {"geoWidth": 0.05}))["stroke width"]
    assert search.verdict == "search" and search.numbers["render_over_target"] > 2
    floor = _by_aspect(analyse_gap(thin, thick, {"geoWidth": 0.001}))["stroke width"]
    assert floor.verdict == "renderer"
    assert "Renderer ceiling" in ceiling_words([floor])


def test_gap_report_is_json_ready_and_the_picture_marks_missing_light_red():
    import json

    target, candidate = _strokes(20, 120), _strokes(200, 300)
    report = gap_report(target, candidate)
    assert json.loads(json.dumps(report))["ceiling"].startswith("No renderer limit")
    picture = gap_picture(target, candidate)
    assert picture.shape == (288, 512, 3)
    left, right = picture[:, :180], picture[:, 330:]
    assert left[..., 0].max() > 0.8 and left[..., 1].max() < 0.5  # missing: red
    assert right[..., 1].max() > 0.8 and right[..., 0].max() < 0.5  # extra: cyan


def luminance_of(image: np.ndarray) -> np.ndarray:
    from core.metrics.similarity import luminance

    return luminance(image)


def test_symmetry_variants_draw_the_symmetry_they_name():
    from core.metrics.similarity import luminance
    from core.refine.alternatives import symmetry_variants
    from core.refine.gap import symmetry_scores

    scene = {"geometry": "ring", "repetitions": 40, "scale": 0.5, "position": {"x": 1.2, "y": 0.6}}
    scores = {
        name: symmetry_scores(luminance(render(params, W, H, quality="fast")))
        for name, params in symmetry_variants(scene)
    }
    for name in ("mirror left-right", "mirror top-bottom", "180° rotation"):
        assert scores[name][name] > 0.9, (name, scores[name])
        assert scores["no copy"][name] < 0.5  # one ring off-centre has none of them


def test_solid_light_where_the_target_has_lines_is_called_filled():
    lines = _strokes(20, 300, width=1)
    solid = _canvas()
    solid[30:150, 20:300] = 1.0
    stroke = {f.aspect: f for f in analyse_gap(lines, solid, {"geoWidth": 0.05})}["stroke width"]
    assert stroke.verdict == "search" and "fills areas" in stroke.words


def test_exactness_names_targets_whose_own_small_errors_fall_under_the_skill_bar():
    """Thin upright outlines lose their ssim_skill when moved 1 px; a wide soft glow keeps it."""
    thin = _canvas()
    thin[20:160, 20:300:6] = 1.0
    yy, xx = np.mgrid[0:H, 0:W]
    glow = np.exp(-((xx - W / 2) ** 2 + (yy - H / 2) ** 2) / (2 * 40.0**2))[..., None] * np.ones(
        3, np.float32
    )
    findings = {
        name: _by_aspect(analyse_gap(img, img))["exactness"] for name, img in (("thin", thin), ("glow", glow))
    }
    assert findings["thin"].verdict == "metric" and findings["thin"].numbers["moved"] < 0.40
    assert (
        findings["glow"].verdict == "ok"
        and min(findings["glow"].numbers[k] for k in ("enlarged", "moved")) > 0.9
    )
    assert "How exact the figures ask" in ceiling_words([findings["thin"]])
    assert "How exact" not in ceiling_words([findings["glow"]])


def test_enlarged_keeps_the_size_and_scales_about_the_centre():
    from core.refine.gap import enlarged

    image = np.zeros((101, 201), np.float32)
    image[50, 150] = 1.0  # 50 px right of the centre
    big = enlarged(image, 1.1)
    assert big.shape == image.shape
    assert np.unravel_index(np.argmax(big), big.shape) == (50, 155)  # 55 px right: 10 % further out
    np.testing.assert_allclose(enlarged(image, 1.0), image)


def test_a_border_in_the_target_is_counted_apart_from_the_match() -> None:
    """A screenshot's bar along the edge: named first, with what the match scores without it."""
    design = render({"geometry": "ring", "repetitions": 40, "scale": 0.5}, 640, 360).astype(np.float32) / 255
    target = design.copy()
    target[:, :4] = 0.8
    border = _by_aspect(analyse_gap(target, design))["frame border"]
    assert border.verdict == "target" and border.numbers["borders"][0]["width"] == 4
    assert border.numbers["lum_corr_without"] == pytest.approx(1.0, abs=0.01)
    assert border.numbers["lum_corr"] < border.numbers["lum_corr_without"] - 0.02
    words = ceiling_words(analyse_gap(target, design))
    assert words.startswith("Not part of the design: The target has a bright bar 4 px wide along its left")
    clean = _by_aspect(analyse_gap(design, design))["frame border"]
    assert clean.verdict == "ok" and not ceiling_words(analyse_gap(design, design)).startswith("Not part")
