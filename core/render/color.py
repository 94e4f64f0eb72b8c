"""Colour pipeline of the original (renderer-spec §6): linear base colour, local gradient, ACES filmic tone
map per fragment, sRGB encode. Pure functions over float arrays in [0, 1] (linear or encoded as named)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_ACES_IN = np.array([[0.59719, 0.35458, 0.04823], [0.07600, 0.90834, 0.01566], [0.02840, 0.13383, 0.83777]])
_ACES_OUT = np.array(
    [[1.60475, -0.53108, -0.07367], [-0.10208, 1.10813, -0.00605], [-0.00327, -0.07276, 1.07602]]
)


def hex_to_rgb(color: str) -> np.ndarray:
    """'#rrggbb' or '#rgb' → sRGB-encoded floats in [0, 1]."""
    h = color.lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float64) / 255.0


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, dtype=np.float64)
    return np.where(c < 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """three.js LinearTosRGB, with its literal exponent 0.41666."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(np.maximum(x, 0.0), 0.41666) - 0.055)


def aces_filmic(rgb: np.ndarray) -> np.ndarray:
    """three.js ACESFilmicToneMapping at exposure 1; `rgb` (..., 3) linear → linear in [0, 1]."""
    v = (np.asarray(rgb, dtype=np.float64) / 0.6) @ _ACES_IN.T
    f = (v * (v + 0.0245786) - 0.000090537) / (v * (0.983729 * v + 0.4329510) + 0.238081)
    return np.clip(f @ _ACES_OUT.T, 0.0, 1.0)


def display(rgb_linear: np.ndarray) -> np.ndarray:
    """Linear fragment colour → the display-encoded value the blend stage adds (tone map, then sRGB)."""
    return linear_to_srgb(aces_filmic(rgb_linear))


def gradient_factor(q: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """g = 1 − smoothstep(lo, hi, q), applied literally even when lo ≥ hi (spec §11.3)."""
    q = np.asarray(q, dtype=np.float64)
    t = (q >= hi).astype(np.float64) if hi == lo else np.clip((q - lo) / (hi - lo), 0.0, 1.0)
    return 1.0 - t * t * (3.0 - 2.0 * t)


@lru_cache(maxsize=1024)
def layer_base_color(main_color: str, layer_color: str | None) -> np.ndarray:
    """Main layer: lin(main)² (the colour is applied twice); layer k: lin(main) ⊙ lin(layer or main).
    Cached (read-only result): every render asks it once per layer."""
    main = srgb_to_linear(hex_to_rgb(main_color))
    other = srgb_to_linear(hex_to_rgb(layer_color)) if layer_color else main
    out = main * other
    out.setflags(write=False)
    return out


LUT_SIZE = 8192
LUT_MAX_D = 1.5  # |d| = |p·(sin γ, cos γ)| stays below ~1.05 for every shape; margin for safety


def gradient_lut(base: np.ndarray, gradient_range: tuple[float, float], size: int = LUT_SIZE) -> np.ndarray:
    lo, hi = float(gradient_range[0]), float(gradient_range[1])
    return _gradient_lut(tuple(float(c) for c in base), (lo, hi), size)


@lru_cache(maxsize=256)
def _gradient_lut(base: tuple[float, ...], gradient_range: tuple[float, float], size: int) -> np.ndarray:
    """Display colour (size+1, 3) as a function of |d| on [0, LUT_MAX_D], where d = p·(sin γ, cos γ).

    The gradient only depends on |d| (q = 0.5 + 0.5·|d|), so one table per layer colour serves every fragment.
    g is monotonic in d, so the tone map (the costly part) runs only where g varies; the flat ends are copies.
    """
    d = np.linspace(0.0, LUT_MAX_D, size + 1)
    g = gradient_factor(0.5 + 0.5 * d, *gradient_range)
    varying = np.flatnonzero(g != g[0])
    first = max(int(varying[0]) - 1, 0) if len(varying) else 0
    last = int(np.flatnonzero(g != g[-1])[-1]) + 1 if len(varying) else 0
    lut = np.empty((len(d), 3))
    lut[first : last + 1] = display(np.asarray(base)[None, :] * g[first : last + 1, None])
    lut[:first] = lut[first]
    lut[last + 1 :] = lut[last]
    lut.setflags(write=False)
    return lut
