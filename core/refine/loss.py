"""Image losses for refinement: a target prepared once, then one float per candidate render (lower is better).

SSIM alone is fooled by these mostly-black designs (an all-black candidate already scores 0.4–0.9), so the
default `ssim_lum` adds 1 − lum_corr, which is 1 for a black candidate (correlation undefined → 0) and only
reaches 0 where light falls where the target's light falls. Both terms are taken on lightly blurred
images at a small working size: the blur widens the basin of a thin stroke that is a pixel off, and the
size keeps one evaluation at a few milliseconds. Losses are picklable, so pool workers get their own copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import cv2
import numpy as np

from core.imageio import resize, to_rgb_float
from core.metrics import similarity, working_size
from core.metrics.lpips_metric import LpipsUnavailable, alexnet_checkpoint_path

DEFAULT_WIDTH = 160
"""Working width in px for losses: 160×90 for a 16:9 target renders in ≈ 5–15 ms with quality "fast"."""

DEFAULT_BLUR = 1.0
"""Gaussian σ in working-size px applied to both images before comparing."""


class Loss(Protocol):
    """A target-bound loss: `size` is what a candidate must be rendered at, `__call__` scores it."""

    name: str
    size: tuple[int, int]  # (width, height)
    target: np.ndarray  # (h, w, 3) float32 in [0, 1] at `size`, unblurred (for reports and previews)

    def __call__(self, candidate: np.ndarray) -> float: ...


def prepare_target(target: Any, width: int = DEFAULT_WIDTH) -> np.ndarray:
    """The target as (h, w, 3) float32 RGB in [0, 1] at `width` px wide, height from its aspect ratio."""
    rgb = to_rgb_float(target)
    w, h = working_size(rgb.shape[1], rgb.shape[0], width)
    return resize(rgb, w, h)


BLUR_TRUNCATE = 4.0
"""Kernel radius in σ: scipy.ndimage.gaussian_filter's default, so `blur` is its figure."""


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Per-channel Gaussian blur of an (h, w, 3) float image as float32; σ = 0 returns it unchanged.

    scipy.ndimage.gaussian_filter(image, (σ, σ, 0), mode="reflect") to float32 rounding (tests check it),
    drawn with OpenCV's separable filter: a sixth of the time at the loss's 160 px, where every candidate
    of a search is blurred (benchmarks/loss.py)."""
    if sigma <= 0:
        return image
    size = 2 * int(BLUR_TRUNCATE * sigma + 0.5) + 1
    flat = np.ascontiguousarray(image, dtype=np.float32)
    return cv2.GaussianBlur(flat, (size, size), sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


def _as_float(candidate: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    image = np.asarray(candidate)
    if image.shape[:2] != (size[1], size[0]):
        raise ValueError(f"candidate is {image.shape[1]}x{image.shape[0]} px, the loss expects {size}")
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    return image.astype(np.float32, copy=False)


class SsimLumLoss:
    """(1 − SSIM) · w_ssim + (1 − lum_corr) · w_lum on blurred images; 0 for a perfect match, ≈ 1.3 for
    black against a typical design.

    Equal weights: a lighter lum_corr term (w_lum 0.5, three seeds) lifted the 20 synthetic targets'
    seed-mean median lum_corr 0.935 → 0.943 (runs up 25, down 25) but lowered the references' in 8 of 12
    runs (mean 0.847 → 0.817), and a heavier one (2) lowered both (benchmarks/RESULTS.md, `benchmarks.refine
    --lum-weight`)."""

    name = "ssim_lum"

    def __init__(
        self,
        target: Any,
        width: int = DEFAULT_WIDTH,
        *,
        sigma: float = DEFAULT_BLUR,
        w_ssim: float = 1.0,
        w_lum: float = 1.0,
    ) -> None:
        self.target = prepare_target(target, width)
        self.size = (self.target.shape[1], self.target.shape[0])
        self.sigma, self.w_ssim, self.w_lum = sigma, w_ssim, w_lum
        self._target_blurred = blur(self.target, sigma)
        self._target_lum = similarity.luminance(self._target_blurred)
        self._ssim = similarity.SsimTo(self._target_blurred)

    def terms(self, candidate: np.ndarray) -> dict[str, float]:
        """The loss's parts: ssim and lum_corr on the blurred pair."""
        b = blur(_as_float(candidate, self.size), self.sigma)
        return {
            "ssim": self._ssim(b),
            "lum_corr": similarity.correlation(self._target_lum, similarity.luminance(b)),
        }

    def __call__(self, candidate: np.ndarray) -> float:
        t = self.terms(candidate)
        return self.w_ssim * (1.0 - t["ssim"]) + self.w_lum * (1.0 - t["lum_corr"])


class SsimLoss(SsimLumLoss):
    """1 − SSIM only: kept to show what the luminance term buys (black scores well here)."""

    name = "ssim"

    def __init__(self, target: Any, width: int = DEFAULT_WIDTH, *, sigma: float = DEFAULT_BLUR) -> None:
        super().__init__(target, width, sigma=sigma, w_lum=0.0)


class LpipsSsimLumLoss(SsimLumLoss):
    """`ssim_lum` plus w_lpips · LPIPS (AlexNet). Raises LpipsUnavailable at construction when the
    backbone weights are not on this machine (offline), so a caller can fall back before any work."""

    name = "ssim_lum_lpips"

    def __init__(self, target: Any, width: int = DEFAULT_WIDTH, *, w_lpips: float = 1.0) -> None:
        if not alexnet_checkpoint_path().exists():
            raise LpipsUnavailable(f"LPIPS weights not found at {alexnet_checkpoint_path()}")
        super().__init__(target, width)
        self.w_lpips = w_lpips

    def __call__(self, candidate: np.ndarray) -> float:
        from core.metrics import lpips_distance

        base = super().__call__(candidate)
        return base + self.w_lpips * lpips_distance(self.target, _as_float(candidate, self.size))


LOSSES: dict[str, Callable[..., Loss]] = {
    SsimLumLoss.name: SsimLumLoss,
    SsimLoss.name: SsimLoss,
    LpipsSsimLumLoss.name: LpipsSsimLumLoss,
}


def make_loss(name: str, target: Any, width: int = DEFAULT_WIDTH, **options: Any) -> Loss:
    """A loss by name (see LOSSES) bound to `target` at `width` px."""
    try:
        factory = LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}: choose one of {sorted(LOSSES)}") from None
    return factory(target, width, **options)
