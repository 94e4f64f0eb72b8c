"""Concentric rings measured off a target (core.inverse.concentric) and ranked in the first guess."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.imageio import to_rgb_float
from core.inverse import InverseModel, ModelConfig
from core.inverse.concentric import concentric_fits, concentric_rings, stroke_variants
from core.inverse.guess import guess
from core.inverse.motifs import anchored_trail
from core.metrics import match_report
from core.render import render

NS = 'xmlns="http://www.w3.org/2000/svg"'


def _rings_scene(progression: str, factor: float, count: int, x: float = 0.0) -> dict:
    """Rings drawn by the renderer, all centred on (x, 0.1), no mirror copy."""
    return {
        "geometry": "ring",
        "repetitions": count,
        "scaleProgression": progression,
        "scaleFactor": factor,
        "positionProgression": "index",
        "xStep": 0.0,
        "yStep": 0.0,
        "stepFactor": 0.0,
        "alphaFactor": 1.0,
        "gradientRange": [1.0, 1.0],
        "geoWidth": 0.01,
        "scale": 0.15,
        "position": {"x": x, "y": 0.1},
        "layers": [{"position": {"x": 0, "y": 0}, "rotation": 0, "scale": {"x": 0.0, "y": 0.0}}],
    }


@pytest.mark.parametrize(
    ("progression", "factor", "count"),
    [("additive", 1.8, 7), ("exponential", 1.3, 6)],
    ids=["additive", "tunnel"],
)
def test_rendered_rings_are_read_back(progression: str, factor: float, count: int) -> None:
    target = render(_rings_scene(progression, factor, count, x=0.4), 640, 360)
    fit = concentric_rings(target)
    assert fit is not None and fit.progression == progression and len(fit.radii) == count
    assert fit.factor == pytest.approx(factor, abs=0.05)
    assert fit.params["position"]["x"] == pytest.approx(0.4, abs=0.05)
    report = match_report(target, render(fit.params, 640, 360), lpips=False)
    assert report["lum_corr"] > 0.9, report


def test_what_is_not_concentric_rings_gives_none() -> None:
    assert concentric_rings(np.zeros((90, 160, 3), np.uint8)) is None
    assert concentric_rings(render(_rings_scene("additive", 1.8, 1), 320, 180)) is None  # one ring
    trail = anchored_trail("roundedRect", (0.65, -0.65), 1.06, 24)  # nested squares sharing a corner
    assert concentric_rings(render(trail, 320, 180)) is None


def test_a_designs_thin_rings_become_the_first_guess() -> None:
    """Ten 3-px rings (an SVG, as Figma exports): the bank's best is a haze that the search cannot leave
    (refined: ssim 0.69, ssim_skill −0.11 before this fit); the measured rings rank first, and already
    score as a match."""
    circles = "".join(f'<circle cx="826" cy="460" r="{r}"/>' for r in range(40, 401, 40))
    svg = f'<svg {NS} width="1652" height="919">'
    svg += f'<g fill="none" stroke="#f5f3e7" stroke-width="3">{circles}</g></svg>'
    target = to_rgb_float(svg.encode())
    fit = concentric_rings(target)
    assert fit is not None and (len(fit.radii), fit.progression, fit.factor) == (10, "additive", 2.0)
    assert [name for name, _ in stroke_variants(fit.params)] == [" + stroke ×0.5", "", " + stroke ×2"]
    report = match_report(target, render(fit.params, 1652, 919), lpips=False)
    assert report["ssim_skill"] > 0.5 and report["lum_corr"] > 0.9, report
    torch.manual_seed(0)
    model = InverseModel(ModelConfig(backbone="test_resnet", input_size=32, neck=32), pretrained=False).eval()
    first = guess(model, target, None)
    assert first.sources[0].startswith("motif concentric rings (10, additive ×2.000)")
    assert guess(model, target, None, motifs=0).sources[0].startswith("motif") is False


def test_nested_squares_are_read_with_the_square_distance() -> None:
    """Upright nested squares (an SVG, 3-px strokes): the largest of |dx|, |dy| is one distance along
    each outline, so the same fit reads them; the square and the rounded square are both offered and
    the loss picks. Refined from it (python -m core.refine, seed 0): ssim 0.89, ssim_skill 0.58, lum_corr
    0.79, against 0.65 / −0.34 / 0.53 from the guess without it."""
    squares = "".join(
        f'<rect x="{826 - h}" y="{460 - h}" width="{2 * h}" height="{2 * h}"/>' for h in range(30, 421, 45)
    )
    svg = f'<svg {NS} width="1652" height="919">'
    svg += f'<g fill="none" stroke="#f5f3e7" stroke-width="3">{squares}</g></svg>'
    target = to_rgb_float(svg.encode())
    fits = concentric_fits(target)
    assert [fit.geometry for fit in fits] == ["square", "roundedRect"]
    assert all(len(fit.radii) == 9 and fit.progression == "additive" for fit in fits)
    report = match_report(target, render(fits[0].params, 1652, 919), lpips=False)
    assert report["lum_corr"] > 0.7, report
    assert concentric_rings(target) is None  # no rings in it
    torch.manual_seed(0)
    model = InverseModel(ModelConfig(backbone="test_resnet", input_size=32, neck=32), pretrained=False).eval()
    assert guess(model, target, None).sources[0].startswith("motif concentric nested squares (9, additive")
