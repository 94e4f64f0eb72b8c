"""Border bars in a target (core.metrics.border): found where a screenshot left one, never in renders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.metrics import target_notes
from core.metrics.border import Border, find_borders, without_borders
from core.metrics.report import border_note
from core.params import sample_params
from core.render import render

SCENE = {"geometry": "ring", "repetitions": 40, "scale": 0.5}


def _with_bar(image: np.ndarray, edge: str, width: int, level: int = 210) -> np.ndarray:
    out = image.copy()
    where = {"left": np.s_[:, :width], "right": np.s_[:, -width:]}
    where |= {"top": np.s_[:width, :], "bottom": np.s_[-width:, :]}
    out[where[edge]] = level
    return out


@pytest.mark.parametrize(("edge", "width"), [("left", 4), ("right", 1), ("top", 2), ("bottom", 3)])
def test_a_bar_along_an_edge_is_found_with_its_width(edge: str, width: int) -> None:
    image = _with_bar(render(SCENE, 640, 360), edge, width)
    [found] = find_borders(image)
    assert found.edge == edge and found.width == width and found.light > 0.7
    cleaned = without_borders(image, [found])
    assert find_borders(cleaned) == [] and cleaned.max() <= 1.0


def test_renders_have_no_border() -> None:
    """Sampled scenes, layers and effects included: no false alarm (300 weighted draws at 160 px and 25
    golden renders also gave none when this was written)."""
    for params in sample_params(24, seed=5, mode="weighted", n_layers=2):
        assert find_borders(render(params, 160, 90, quality="draft")) == []


def test_what_is_not_a_bar() -> None:
    base = render(SCENE, 640, 360)
    assert find_borders(np.full((90, 160, 3), 255, np.uint8)) == []  # flooded: lit inside as at the edge
    assert find_borders(_with_bar(base, "left", 12)) == []  # wider than 1 % of the width: design light
    half = _with_bar(base, "left", 4)
    half[180:, :4] = 0  # down half the edge only
    assert find_borders(half) == []


def test_the_note_is_said_on_load() -> None:
    image = _with_bar(render(SCENE, 640, 360), "left", 4)
    note = border_note(image)
    assert note and "a bright bar 4 px wide along its left edge" in note
    ceiling = float(note.split("lum_corr ")[1].split(" ")[0])  # the design without it, scored
    assert 0.5 < ceiling < 0.999
    assert target_notes(image) == [note]
    assert target_notes(render(SCENE, 640, 360)) == [] and border_note(render(SCENE, 640, 360)) is None
    assert len(target_notes(np.zeros((36, 64, 3), np.uint8))) == 1  # flat: that note alone
    [small] = target_notes(render(SCENE, 96, 54))
    assert small.startswith("The design is only 96×54 px") and target_notes(render(SCENE, 160, 90)) == []


def test_ref_png_has_its_left_bar(shared: Path) -> None:
    references = shared / "references"
    assert find_borders(references / "ref.png") == [Border("left", 4, pytest.approx(0.7526, abs=1e-3))]
    for name in ("figma-00.png", "figma-01.png", "figma-02.png"):
        assert find_borders(references / name) == []
