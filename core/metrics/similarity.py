"""Pure similarity functions over same-sized float RGB arrays in [0, 1]; cheap enough for optimisation
losses. Resizing and format handling live in `core.imageio` and `core.metrics.report`."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.metrics import structural_similarity

REC709 = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
"""Rec. 709 / sRGB luma weights, applied to the gamma-encoded values as stored (not linearised)."""

LUM_SIGMA = 2.0
"""Gaussian blur for `lum_corr`, in pixels at the working size: forgives sub-stroke misalignment."""

_CONSTANT_STD = 1e-8
"""A blurred luminance with a standard deviation below this is treated as constant."""


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of an (H, W, 3) RGB array as an (H, W) float32 array, same range as the input.

    An (H, W) array is taken to be luminance already and returned as float32.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        return image.astype(np.float32, copy=False)
    _check_rgb(image, "luminance")
    return image.astype(np.float32, copy=False) @ REC709


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two (H, W, 3) float RGB arrays in [0, 1], in [-1, 1] (1 = identical).

    Exactly `skimage.metrics.structural_similarity(a, b, channel_axis=2, data_range=1.0)`: 7x7 uniform
    window, sample covariance, the mean over pixels and channels. Both sides need at least 7 px.
    """
    _check_pair(a, b, "ssim")
    return float(structural_similarity(a, b, channel_axis=2, data_range=1.0))


SSIM_WINDOW = 7
_SSIM_C1, _SSIM_C2 = (0.01 * 1.0) ** 2, (0.03 * 1.0) ** 2  # skimage's K1, K2 at data_range 1
_SSIM_COV_NORM = SSIM_WINDOW**2 / (SSIM_WINDOW**2 - 1)  # sample covariance over the 7x7 window


class SsimTo:
    """`ssim(target, b)` for many `b` against one fixed target, as float32 (what the losses pass).

    Why: an optimisation loss scores thousands of candidates against one target, and skimage's
    structural_similarity filters five products per channel per call, two of them the target's own.
    This filters the target's once and the candidate's three with OpenCV's box filter (all channels in
    one call, scipy's "reflect" border): the same figure to float32 rounding (tests check it against
    skimage) in a quarter of the time at the loss's 160 px (benchmarks/loss.py).
    """

    def __init__(self, target: np.ndarray) -> None:
        _check_rgb(np.asarray(target), "ssim")
        if min(np.shape(target)[:2]) < SSIM_WINDOW:
            raise ValueError(f"ssim needs images of at least {SSIM_WINDOW} px a side, got {np.shape(target)}")
        self.target = np.ascontiguousarray(target, dtype=np.float32)
        self._mean = _window_mean(self.target)
        self._var = _SSIM_COV_NORM * (_window_mean(self.target * self.target) - self._mean**2)

    def __call__(self, b: np.ndarray) -> float:
        _check_pair(self.target, b, "ssim")
        y = np.ascontiguousarray(b, dtype=np.float32)
        uy, uyy, uxy = _window_mean(y), _window_mean(y * y), _window_mean(self.target * y)
        ux = self._mean
        vy = _SSIM_COV_NORM * (uyy - uy * uy)
        vxy = _SSIM_COV_NORM * (uxy - ux * uy)
        s = (2 * ux * uy + _SSIM_C1) * (2 * vxy + _SSIM_C2)
        s /= (ux * ux + uy * uy + _SSIM_C1) * (self._var + vy + _SSIM_C2)
        pad = (SSIM_WINDOW - 1) // 2
        return float(s[pad:-pad, pad:-pad].mean(dtype=np.float64))


def _window_mean(image: np.ndarray) -> np.ndarray:
    """Mean over each pixel's SSIM window, per channel, the border reflected as scipy's "reflect" (and
    so skimage's uniform_filter) does: edge pixels repeated (OpenCV's BORDER_REFLECT)."""
    window = (SSIM_WINDOW, SSIM_WINDOW)
    return cv2.boxFilter(image, -1, window, normalize=True, borderType=cv2.BORDER_REFLECT)


def ssim_black(image: np.ndarray) -> float:
    """SSIM of `image` against an all-black image of its size: what a blank render would score.

    For the mostly-black designs matched here this is 0.4-0.9, the floor any real match must beat.
    """
    image = np.asarray(image)
    return ssim(image, np.zeros_like(image))


def ssim_skill(ssim_value: float, ssim_black_value: float, *, eps: float = 1e-6) -> float:
    """Skill of a match over a black image: (ssim - ssim_black) / (1 - ssim_black).

    0 means no better than a black image, 1 a perfect match, negative worse than black. When the target
    is itself indistinguishable from black (1 - ssim_black < eps) nothing can beat black, so the skill is
    1.0 if the candidate scores as well as black (ssim >= ssim_black - eps), otherwise the plain gain
    ssim - ssim_black (negative), which avoids dividing by ~0.
    """
    gain = ssim_value - ssim_black_value
    headroom = 1.0 - ssim_black_value
    if headroom < eps:
        return 1.0 if gain >= -eps else float(gain)
    return float(gain / headroom)


def blurred_luminance(image: np.ndarray, sigma: float = LUM_SIGMA) -> np.ndarray:
    """Rec. 709 luminance after a Gaussian blur of `sigma` px (reflecting borders), as float32 (H, W)."""
    return gaussian_filter(luminance(image), sigma=sigma, mode="reflect")


def lum_corr(a: np.ndarray, b: np.ndarray, sigma: float = LUM_SIGMA) -> float:
    """Pearson correlation in [-1, 1] of the blurred luminances of two same-sized images.

    Measures whether light falls where the target's light falls, independent of overall brightness and
    contrast. Inputs are (H, W, 3) RGB or (H, W) luminance arrays; the blur is `sigma` px (default 2).
    Returns 0.0 when either blurred luminance is constant (correlation undefined).
    """
    _check_pair(a, b, "lum_corr", allow_gray=True)
    return correlation(blurred_luminance(a, sigma), blurred_luminance(b, sigma))


def correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two same-shaped arrays in [-1, 1]; 0.0 when either is constant."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    x = x - x.mean()
    y = y - y.mean()
    sx, sy = np.sqrt(np.mean(x * x)), np.sqrt(np.mean(y * y))
    if sx < _CONSTANT_STD or sy < _CONSTANT_STD:
        return 0.0
    return float(np.clip(np.mean(x * y) / (sx * sy), -1.0, 1.0))


def _check_rgb(image: np.ndarray, what: str) -> None:
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{what} expects an (H, W, 3) RGB array, got shape {image.shape}")


def _check_pair(a: np.ndarray, b: np.ndarray, what: str, *, allow_gray: bool = False) -> None:
    """Both arrays are RGB (or, if allowed, 2-D luminance) and the same height and width."""
    for image in (a, b):
        if not (allow_gray and np.ndim(image) == 2):
            _check_rgb(np.asarray(image), what)
    if np.shape(a)[:2] != np.shape(b)[:2]:
        raise ValueError(f"{what} needs images of the same size, got {np.shape(a)} and {np.shape(b)}")
