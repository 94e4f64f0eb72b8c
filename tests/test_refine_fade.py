"""One-sided fades (core.refine.fade) and the gap analysis's finding on them."""

from __future__ import annotations

import numpy as np
import pytest

from core.metrics import prepare_pair
from core.metrics.similarity import luminance
from core.params import defaults, validate
from core.refine.fade import fade_fit, shape_samples
from core.refine.gap import analyse_gap, ceiling_words
from core.render import render
from core.render.shapes import SHAPES

SIZE = (320, 180)


def _rings() -> dict:
    """Twelve concentric rings about the frame's centre, no mirror copy: a linear ramp across the frame
    lights every ring from one side (the same side in every ring's own frame)."""
    p = defaults()
    p.update(
        geometry="ring", repetitions=12, scaleFactor=1.08, scaleProgression="exponential",
        rotationFactor=0.0, stepFactor=0.0, geoWidth=0.02, alphaFactor=0.9, scale=0.6,
        position={"x": 0.0, "y": 0.0},
        layers=[{"position": {"x": 0, "y": 0}, "rotation": 0, "scale": {"x": 0, "y": 0}}],
    )  # fmt: skip
    return validate(p)


def _fit(target: np.ndarray, render_image: np.ndarray, params: dict) -> dict | None:
    t, r = prepare_pair(target, render_image, 512)
    return fade_fit(luminance(t), luminance(r), params)


def _faded(image: np.ndarray, ramp: np.ndarray) -> np.ndarray:
    return (image.astype(np.float64) * ramp[None, :, None]).round().astype(np.uint8)


def test_a_one_sided_fade_is_found_and_named_a_renderer_ceiling() -> None:
    params = _rings()
    image = render(params, *SIZE, quality="exact")
    target = _faded(image, np.linspace(1.0, 0.1, SIZE[0]))  # bright on the left of every ring
    fit = _fit(target, image, params)
    assert fit is not None and fit["one_sided"] > 0.6 and fit["symmetric"] < 0.2
    findings = {f.aspect: f for f in analyse_gap(target, image, params)}
    assert findings["one-sided fade"].verdict == "renderer"
    assert "Renderer ceiling: The target lights each shape from one side" in ceiling_words(
        list(findings.values())
    )


def test_a_symmetric_fade_is_not_called_one_sided() -> None:
    params = _rings()
    image = render(params, *SIZE, quality="exact")
    x = np.linspace(-1.0, 1.0, SIZE[0])
    target = _faded(image, 1.0 - 0.9 * np.abs(x))  # both sides of every ring dim alike
    fit = _fit(target, image, params)
    assert fit is not None and fit["symmetric"] > fit["one_sided"]
    finding = {f.aspect: f for f in analyse_gap(target, image, params)}["one-sided fade"]
    assert finding.verdict == "ok" and finding.words.startswith("No one-sided fade")


def test_a_match_against_itself_and_unmeasurable_scenes_name_nothing() -> None:
    params = _rings()
    image = render(params, *SIZE, quality="exact")
    fit = _fit(image, image, params)
    assert fit is not None and fit["one_sided"] == 0.0 and fit["symmetric"] == 0.0
    assert shape_samples({"geometry": "ring", "repetitions": "many"}, 512, 288) is None  # rejected params
    dark = dict(params, position={"x": 2.0, "y": 2.0}, layers=params["layers"])  # its rings off the frame
    for p in (dark, None):
        finding = {f.aspect: f for f in analyse_gap(image, image, p)}["one-sided fade"]
        assert finding.verdict == "ok" and finding.words.startswith("Not measured")


@pytest.mark.parametrize("geometry", sorted(SHAPES))
def test_samples_lie_on_the_drawn_outlines(geometry: str) -> None:
    params = validate(dict(_rings(), geometry=geometry))
    image = render(params, 512, 288, quality="exact")
    xy, local = shape_samples(params, 512, 288)
    assert xy.shape == local.shape and len(xy) % 12 == 0  # 12 instances, the same stations on each
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < 511) & (xy[:, 1] >= 0) & (xy[:, 1] < 287)
    lit = image.max(axis=2)[xy[inside, 1].round().astype(int), xy[inside, 0].round().astype(int)] > 0
    assert lit.mean() > 0.9
