"""Refinement losses: zero for a perfect match, not fooled by a black candidate."""

from __future__ import annotations

import numpy as np
import pytest

from core.metrics import LpipsUnavailable, alexnet_checkpoint_path
from core.params import sample_params
from core.refine.loss import LOSSES, SsimLumLoss, make_loss
from core.render import render


@pytest.fixture(scope="module")
def target() -> np.ndarray:
    scene = sample_params(30, seed=9000, mode="weighted", n_layers=0)[9]
    image = render(scene, 192, 108, "exact")
    assert (image.max(axis=2) > 12).mean() > 0.05  # the fixture really has light in it
    return image


def test_identical_image_scores_zero(target: np.ndarray) -> None:
    loss = SsimLumLoss(target, width=96)
    assert loss.size == (96, 54)
    assert loss((loss.target * 255).round().astype(np.uint8)) < 1e-3
    assert loss(loss.target) == pytest.approx(0.0, abs=1e-6)


def test_black_scores_worse_than_a_near_miss(target: np.ndarray) -> None:
    loss = SsimLumLoss(target, width=96)
    near = np.roll(loss.target, 1, axis=1)  # the same picture one working pixel to the right
    black = np.zeros_like(loss.target)
    assert loss(black) > 1.0  # 1 − lum_corr alone is 1 for a blank candidate
    assert loss(near) < 0.5 * loss(black)
    ssim_only = make_loss("ssim", target, 96)
    assert ssim_only(black) < 0.5 * loss(black)  # what the luminance term adds on a black candidate


def test_losses_are_pluggable_and_checked(target: np.ndarray) -> None:
    assert {"ssim_lum", "ssim"} <= set(LOSSES)
    with pytest.raises(ValueError, match="unknown loss"):
        make_loss("nope", target)
    with pytest.raises(ValueError, match="expects"):
        SsimLumLoss(target, width=96)(np.zeros((10, 10, 3), np.float32))


def test_lpips_loss_fails_fast_offline(target: np.ndarray) -> None:
    if alexnet_checkpoint_path().exists():
        pytest.skip("LPIPS weights are present on this machine")
    with pytest.raises(LpipsUnavailable):
        make_loss("ssim_lum_lpips", target, 96)


def test_supersampled_scorer_sees_grain_and_thin_strokes_as_a_downscaled_render_does() -> None:
    from core.refine.evaluate import Scorer

    scene = sample_params(30, seed=9000, mode="weighted", n_layers=0)[9]
    scene = {**scene, "noise": {"enabled": True, "density": 0.5, "opacity": 0.3, "size": 0.3}}
    target = render(scene, 192, 108, "fast")  # the working size is 96: the target is 2× larger
    loss = make_loss("ssim_lum", target, 96)
    plain, supersampled = Scorer(loss, "fast"), Scorer(loss, "fast", supersample=2)
    image = supersampled.image(scene)
    assert image.dtype == np.float32 and image.shape == (54, 96, 3)
    assert supersampled(scene) < 1e-3  # the target's own params: the same pixels, averaged the same way
    assert plain(scene) > 0.05  # drawn at 96 px the grain is another pattern at twice the contrast
    for bad in (0, 5):
        with pytest.raises(ValueError, match="supersample"):
            Scorer(loss, "fast", supersample=bad)


def test_refiner_rejects_a_bad_supersample_before_any_work(target: np.ndarray) -> None:
    from core.refine import Refiner

    with pytest.raises(ValueError, match="supersample"):
        Refiner(target, None, budget_evals=10, supersample=0)


def test_blur_is_scipys_gaussian_filter() -> None:
    """The losses' blur (OpenCV's filter, for speed) is scipy.ndimage.gaussian_filter's figure: same
    kernel radius, same reflecting border, any σ, a non-contiguous view too."""
    from scipy.ndimage import gaussian_filter

    from core.refine.loss import blur

    rng = np.random.default_rng(1)
    image = rng.random((37, 61, 3), dtype=np.float32)
    for sigma in (0.6, 1.0, 2.5):
        expected = gaussian_filter(image, sigma=(sigma, sigma, 0), mode="reflect")
        assert np.abs(blur(image, sigma) - expected).max() < 1e-6
    view = image[::-1, 5:]
    expected = gaussian_filter(view, sigma=(1.0, 1.0, 0), mode="reflect")
    assert blur(view, 1.0).dtype == np.float32 and np.abs(blur(view, 1.0) - expected).max() < 1e-6
    assert blur(image, 0.0) is image
