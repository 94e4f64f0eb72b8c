"""Augmentations that make real designs look like renders (and renders like real designs).

Figma exports are landscape (the model sees them letterboxed: black above and below), resampled,
sometimes JPEG-compressed, blurred, or toned differently; the renderer's output is none of those.
Each transform is applied with its own probability to a uint8 (S, S, 3) square render. Geometric
jitter is kept small (±5 % scale, ±3 px) because scale and position are themselves targets.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter


@dataclass(frozen=True)
class AugmentConfig:
    p_aspect: float = 0.3  # letterbox to a landscape aspect in aspect_range (Figma exports: 1.8)
    aspect_range: tuple[float, float] = (1.25, 2.0)
    p_affine: float = 0.5
    scale_jitter: float = 0.05
    shift_px: float = 3.0
    p_blur: float = 0.3
    blur_sigma: tuple[float, float] = (0.3, 1.2)
    p_tone: float = 0.5
    gamma: tuple[float, float] = (0.7, 1.4)
    gain: tuple[float, float] = (0.7, 1.3)
    p_jpeg: float = 0.3
    jpeg_quality: tuple[int, int] = (40, 95)
    p_noise: float = 0.15
    noise_std: float = 4.0  # uint8 units


def letterbox(image: np.ndarray, aspect: float) -> np.ndarray:
    """Black out all but the centre rows of a square render, as the model sees a `aspect`:1 target."""
    size = image.shape[0]
    keep = max(1, round(size / aspect))
    top = (size - keep) // 2
    out = np.zeros_like(image)
    out[top : top + keep] = image[top : top + keep]
    return out


def affine(image: np.ndarray, scale: float, dx: float, dy: float) -> np.ndarray:
    """Scale about the centre and shift (px), black outside: a slightly different framing."""
    size = image.shape[1]
    c = (size - 1) / 2.0
    inv = 1.0 / scale  # PIL maps output → input
    coeffs = (inv, 0.0, c - inv * (c + dx), 0.0, inv, c - inv * (c + dy))
    return np.asarray(
        Image.fromarray(image).transform(image.shape[1::-1], Image.AFFINE, coeffs, Image.BILINEAR)
    )


def augment(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """One random augmentation of a uint8 (S, S, 3) render; returns uint8 of the same shape."""
    out = image
    if rng.random() < cfg.p_affine:
        scale = 1.0 + rng.uniform(-cfg.scale_jitter, cfg.scale_jitter)
        out = affine(out, scale, *rng.uniform(-cfg.shift_px, cfg.shift_px, 2))
    if rng.random() < cfg.p_blur:
        out = np.asarray(Image.fromarray(out).filter(ImageFilter.GaussianBlur(rng.uniform(*cfg.blur_sigma))))
    if rng.random() < cfg.p_tone:
        x = (out.astype(np.float32) / 255.0) ** rng.uniform(*cfg.gamma) * rng.uniform(*cfg.gain)
        out = np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8)
    if rng.random() < cfg.p_noise:
        x = out.astype(np.float32) + rng.normal(0, cfg.noise_std, out.shape)
        out = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < cfg.p_jpeg:
        buf = io.BytesIO()
        Image.fromarray(out).save(buf, format="JPEG", quality=int(rng.integers(*cfg.jpeg_quality)))
        out = np.asarray(Image.open(buf).convert("RGB"))
    if rng.random() < cfg.p_aspect:
        out = letterbox(out, rng.uniform(*cfg.aspect_range))
    return np.ascontiguousarray(out)
