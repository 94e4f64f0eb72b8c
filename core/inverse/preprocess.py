"""Any image → the model's fixed-size input, framed the way the renderer frames a scene.

The camera always shows 5 world units across, so an image's WIDTH fixes the scale: the image is
resized to `size` px wide, then its height is centre-cropped (portrait: the square render is the
middle of it) or padded with black (landscape, e.g. a 1652×919 Figma export: the square render
would show more above and below, and that unknown part is black, the renderer's background).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image

from core.imageio import MAX_SIDE, MIN_SIDE, to_rgb_float

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def as_uint8_rgb(image: Any) -> np.ndarray:
    """(H, W, 3) uint8 RGB; 8-bit RGB arrays and PIL RGB images skip the float round trip (speed)."""
    if isinstance(image, Image.Image) and image.mode == "RGB":
        image = np.asarray(image)
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        if min(image.shape[:2]) < MIN_SIDE or max(image.shape[:2]) > MAX_SIDE:
            to_rgb_float(image)  # raises the same size error as every other input
        return image
    return np.rint(to_rgb_float(image) * 255).astype(np.uint8)


def frame_square(rgb: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) RGB (uint8, or float in [0, 1]) → (size, size, 3) float32 in [0, 1]: width-fit, then
    height centre-crop or black pad."""
    if rgb.dtype != np.uint8:
        rgb = np.rint(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    h, w = rgb.shape[:2]
    new_h = max(1, round(h * size / w))
    image = np.asarray(
        Image.fromarray(np.ascontiguousarray(rgb)).resize(
            (size, new_h), Image.Resampling.BOX if w >= size else Image.Resampling.BILINEAR
        ),
        dtype=np.float32,
    ) / np.float32(255.0)
    if new_h >= size:
        top = (new_h - size) // 2
        return image[top : top + size]
    out = np.zeros((size, size, 3), np.float32)
    top = (size - new_h) // 2
    out[top : top + new_h] = image
    return out


def normalise(square: np.ndarray) -> torch.Tensor:
    """(S, S, 3) float RGB in [0, 1] → (3, S, S) ImageNet-normalised tensor."""
    return torch.from_numpy(((square - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1).copy())


def to_input(image: Any, size: int) -> torch.Tensor:
    """Anything `core.imageio.to_rgb_float` reads (path, bytes, PIL, array; any mode, bit depth, size)
    → the (3, S, S) model input."""
    return normalise(frame_square(as_uint8_rgb(image), size))
