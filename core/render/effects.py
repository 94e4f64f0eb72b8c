"""Post effects of renderer-spec §7: the CRT pass, then the Noise pass, on the display-encoded image.

Both passes port the original's fragment shaders (bb-particles `src/scene/Effects/CrtPass/frag.fs` and
`NoisePass/frag.fs` @02b2738) and evaluate them per output pixel as the GPU does:

* GL orientation: uv origin bottom-left, pixel centres at k + 0.5, so top-down row r has GL y = H−1−r.
  Arrays stay top-down; every row index is mapped through r = H−1−j.
* Everything that decides *which* texel, cell or stripe a pixel gets (noise hash, virtual-grid indices, mask
  arguments) is float32 in the shader's operation order, because those decisions are discontinuous: in
  float64 about 5 % of the noise cells decide differently, and at CRT scale 1.5 virtual-texel borders land
  exactly on pixel centres.
* The first enabled pass reads the 8-bit canvas as value/255 (float32, like a unorm8 texture fetch).
* Between CRT and Noise the image lives in a half-float target: float16, unclamped (values > 1 survive).
* The last pass writes an 8-bit canvas: clamp to [0, 1], then round to nearest (floor(255·v + 0.5)), the
  unorm conversion of GL (ties are measure-zero in practice).

CRT details the spec leaves open are settled by the original shader, itself a cut-down port of Timothy
Lottes' public-domain CRT shader (libretro `crt-lottes`): Fetch = (floor(pos·res + off) + 0.5)/res,
Dist = −(frac(pos·res) − 0.5), Gaus = exp2(k·d²), normalised Horz3/Horz5/Horz7, unnormalised
Scan/BloomScan, the Tri and Bloom sums, the Warp formula and the Lottes masks with the literal 0.333/0.666
thresholds. Unlike crt-lottes it has no sRGB↔linear conversion (it works on display-encoded values), clamps
off-screen taps to the edge texel instead of returning black, never clamps its own output, and multiplies
the mask in after the bloom is added. The source texture is nearest-filtered, so a tap reads texel
floor(u·W) clamped to [0, W−1].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

MASK_CODES: dict[str, int] = {"none": 0, "shadow": 1, "grille": 2, "stretched": 3, "vga": 4}
"""The original's MASK_MAP: mask name → shader `maskType`."""

NOISE_DEFAULTS: dict[str, Any] = {"enabled": False, "density": 0.11, "opacity": 0.11, "size": 0.3}
CRT_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "bleed": 0.4,
    "bloom": 0.15,
    "brightness": 1.0,
    "mask": "grille",
    "maskStrength": 0.5,
    "scale": 1.5,
    "scanlines": 0.3,
    "warp": 0.0,
}
"""The original's NOISE_DEFAULTS / CRT_DEFAULTS (Effects/index.tsx); they fill keys a settings dict lacks."""

_F = np.float32
_HASH_MUL = _F(0.1031)
_HASH_ADD = _F(33.33)
_VALUE_OFFSET = (_F(127.1), _F(311.7))


def _to_unit(image: np.ndarray) -> np.ndarray:
    """Canvas → float32 RGB in [0, 1] as a shader sees it: uint8 is read as v/255, floats pass through."""
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] < 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {arr.shape}")
    arr = arr[..., :3]
    if arr.dtype == np.uint8:
        return arr.astype(_F) / _F(255.0)
    return arr.astype(_F, copy=False)


def _to_uint8(color: np.ndarray) -> np.ndarray:
    """Store into the 8-bit canvas: clamp, then round to nearest."""
    return np.floor(np.clip(color, _F(0.0), _F(1.0)) * _F(255.0) + _F(0.5)).astype(np.uint8)


def _fract(x: np.ndarray) -> np.ndarray:
    """GLSL fract, x − floor(x), which is exact in float32."""
    return x - np.floor(x)


def noise_hash(px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """The Noise pass hash h(p) in float32, operation by operation as the GPU evaluates it.

    p3 = fract(0.1031·(p.x, p.y, p.x)); p3 += dot(p3, p3.yzx + 33.33); h = fract((p3.x + p3.y)·p3.z).
    Inputs broadcast against each other; float32 matters (float64 flips ~5 % of the cells).
    """
    px = np.asarray(px, dtype=_F)
    py = np.asarray(py, dtype=_F)
    x = _fract(px * _HASH_MUL)
    y = _fract(py * _HASH_MUL)
    z = x  # p3.z = fract(0.1031·p.x) = p3.x
    d = (x * (y + _HASH_ADD) + y * (z + _HASH_ADD)) + z * (x + _HASH_ADD)
    x, y, z = x + d, y + d, z + d
    return _fract((x + y) * z)


def _noise_unit(color: np.ndarray, density: float, opacity: float, size: float) -> np.ndarray:
    """Noise pass on a float32 top-down image (the 8-bit canvas as v/255, or the unclamped CRT result)."""
    h, w = color.shape[:2]
    res_x, res_y = _F(w), _F(h)
    s = max(_F(size) * (res_x / _F(1024.0)), _F(1.0))
    # cell = floor(vUv·resolution/s) with vUv = (k + 0.5)/res; GL row j = H−1−r for top-down row r.
    uv_x = (np.arange(w, dtype=_F) + _F(0.5)) / res_x
    uv_y = (np.arange(h - 1, -1, -1, dtype=_F) + _F(0.5)) / res_y
    cell_x = np.floor(uv_x * res_x / s)[None, :]
    cell_y = np.floor(uv_y * res_y / s)[:, None]
    select = noise_hash(cell_x, cell_y)
    value = noise_hash(cell_x + _VALUE_OFFSET[0], cell_y + _VALUE_OFFSET[1]) - _F(0.5)
    amount = np.where(select >= _F(1.0) - _F(density), _F(opacity), _F(0.0))
    return np.clip(color + (value * amount)[..., None], _F(0.0), _F(1.0))


def apply_noise(image: np.ndarray, density: float, opacity: float, size: float) -> np.ndarray:
    """Noise pass (§7) on an (H, W, 3) canvas; returns the uint8 canvas it writes (rounded to nearest).

    Cells s = max(size·W/1024, 1) px; a cell is lit when h(k) ≥ 1 − density and then gets
    (h(k + (127.1, 311.7)) − 0.5)·opacity on R, G and B alike, clamped to [0, 1].
    """
    return _to_uint8(_noise_unit(_to_unit(image), density, opacity, size))


@njit(cache=True)
def _axis_taps(t: np.float32, crt: np.float32, res: np.float32, n: int, idx: np.ndarray) -> np.float32:
    """Texel indices of the nearest virtual-texel centres at offsets −m..m along one axis, and Dist.

    fetch(): u = (floor(t + off) + 0.5)/crtRes, clamped to [0, 1], read nearest: texel floor(u·res) in
    [0, n−1]. Returns dist = −(frac(t) − 0.5). All float32, in the shader's order.
    """
    f32 = np.float32
    m = (idx.shape[0] - 1) // 2
    for o in range(idx.shape[0]):
        u = (np.floor(t + f32(o - m)) + f32(0.5)) / crt
        u = min(max(u, f32(0.0)), f32(1.0))
        idx[o] = min(max(np.int64(np.floor(u * res)), 0), n - 1)
    return -((t - np.floor(t)) - f32(0.5))


_TINY_WEIGHT = np.float32(2.0**-100)
"""Tap weights below this are flushed to zero (GPUs flush subnormals too): far below anything visible, it
keeps weight × texel products normal, and x86 arithmetic on subnormals is ~100× slower, which made the
whole pass several times slower."""


@njit(cache=True)
def _gauss(d: np.float32, k: np.float32, w: np.ndarray) -> None:
    """w[o] = 2^(k·(d + o − m)²) for o = 0..2m (Gaus of the shader for offsets −m..m)."""
    m = (w.shape[0] - 1) // 2
    for o in range(w.shape[0]):
        x = d + np.float32(o - m)
        v = np.exp2(k * x * x)
        w[o] = v if v >= _TINY_WEIGHT else np.float32(0.0)


@njit(cache=True)
def _gauss_recurrence(d: np.float32, k: np.float32, w: np.ndarray) -> None:
    """_gauss with 3 exp2 instead of 2m + 1, for the per-pixel (warped) path, where exp2 dominated.

    In float64, 2^(k(x+1)²) = 2^(kx²)·2^(k(2x+1)) and each step's ratio grows by 2^(2k). Within ~1e-5 of
    _gauss (the float32 rounding of its argument), tiny weights flushed the same way."""
    m = (w.shape[0] - 1) // 2
    x = np.float64(d) - m
    kk = np.float64(k)
    v = 2.0 ** (kk * x * x)
    ratio = 2.0 ** (kk * (2.0 * x + 1.0))
    step = 2.0 ** (2.0 * kk)
    for o in range(w.shape[0]):
        w[o] = np.float32(v) if v >= _TINY_WEIGHT else np.float32(0.0)
        v *= ratio
        ratio *= step


@njit(cache=True)
def _horz(
    src: np.ndarray, row: int, cols: np.ndarray, wts: np.ndarray, lo: int, hi: int, bright: np.float32
) -> tuple[np.float32, np.float32, np.float32]:
    """Horz3/5/7 of the shader: the normalised weighted sum of taps lo..hi−1 on one texel row, × bright."""
    f32 = np.float32
    ws = f32(0.0)
    sr = f32(0.0)
    sg = f32(0.0)
    sb = f32(0.0)
    for o in range(lo, hi):
        wt = wts[o]
        c = cols[o]
        ws += wt
        sr += src[row, c, 0] * wt
        sg += src[row, c, 1] * wt
        sb += src[row, c, 2] * wt
    return bright * sr / ws, bright * sg / ws, bright * sb / ws


@njit(cache=True)
def _crt_kernel(
    src: np.ndarray,
    scale: float,
    bleed: float,
    bloom: float,
    bright: float,
    scanlines: float,
    warp: float,
) -> np.ndarray:
    """The CRT fragment shader before the mask, on float32 top-down images (GL row j is image row H−1−j).

    Tap offsets −3..3 map to slots 0..6 (cols, wpix, wblm), row offsets −2..2 to slots 0..4 (rows, wbscan),
    −1..1 to 0..2 (wscan). Tri = horz3(−1)·scan(−1) + horz5(0)·scan(0) + horz3(1)·scan(1); Bloom uses horz5
    (bleed kernel) on rows ±2 and horz7 (bloom kernel) on −1..1. Without warp every index and weight
    depends on one axis only, and a horizontal sum only on (texel row, output column), so those sums are
    computed once per texel row and reused: the same float32 arithmetic, several times less work.
    Serial on purpose (no numba `parallel`): OpenMP threads do not survive fork-based worker pools and the
    workqueue layer rejects concurrent callers; callers parallelise across images instead.
    """
    f32 = np.float32
    h, w, _ = src.shape
    out = np.zeros((h, w, 3), dtype=np.float32)
    half, one, two = f32(0.5), f32(1.0), f32(2.0)
    res_x, res_y = f32(w), f32(h)
    sc = f32(scale)
    crt_x, crt_y = res_x / sc, res_y / sc
    bleed32, bloom32, scan32, warp32 = f32(bleed), f32(bloom), f32(scanlines), f32(warp)
    hard_pix = f32(-20.0) * (one - bleed32) + f32(-0.5) * bleed32
    hard_scan = f32(-20.0) * (one - scan32) + f32(-4.0) * scan32
    hard_bloom_pix = f32(-3.0) * (one - bloom32) + f32(-0.5) * bloom32
    hard_bloom_scan = f32(-4.0) * (one - bloom32) + f32(-1.0) * bloom32
    bright32 = f32(bright)
    use_bloom = bloom32 > f32(0.0)
    if warp32 > f32(0.0):
        cols = np.empty(7, dtype=np.int64)
        rows = np.empty(5, dtype=np.int64)
        wpix = np.empty(7, dtype=np.float32)
        wblm = np.empty(7, dtype=np.float32)
        wscan = np.empty(3, dtype=np.float32)
        wbscan = np.empty(5, dtype=np.float32)
        for j in range(h):
            for i in range(w):
                qx = ((f32(i) + half) / res_x) * two - one
                qy = ((f32(j) + half) / res_y) * two - one
                mx = one + qy * qy * warp32
                my = one + qx * qx * warp32
                px = (qx * mx) * half + half
                py = (qy * my) * half + half
                dx = _axis_taps(px * crt_x, crt_x, res_x, w, cols)
                dy = _axis_taps(py * crt_y, crt_y, res_y, h, rows)
                for o in range(5):
                    rows[o] = h - 1 - rows[o]
                jo = h - 1 - j
                _gauss_recurrence(dx, hard_pix, wpix)
                _gauss_recurrence(dy, hard_scan, wscan)
                for ro in range(-1, 2):
                    lo, hi = (1, 6) if ro == 0 else (2, 5)
                    r, g, b = _horz(src, rows[ro + 2], cols, wpix, lo, hi, bright32)
                    sw = wscan[ro + 1]
                    out[jo, i, 0] += r * sw
                    out[jo, i, 1] += g * sw
                    out[jo, i, 2] += b * sw
                if use_bloom:
                    _gauss_recurrence(dx, hard_bloom_pix, wblm)
                    _gauss_recurrence(dy, hard_bloom_scan, wbscan)
                    br = bg = bb = f32(0.0)
                    for ro in range(-2, 3):
                        if ro == -2 or ro == 2:
                            r, g, b = _horz(src, rows[ro + 2], cols, wpix, 1, 6, bright32)
                        else:
                            r, g, b = _horz(src, rows[ro + 2], cols, wblm, 0, 7, bright32)
                        sw = wbscan[ro + 2]
                        br += r * sw
                        bg += g * sw
                        bb += b * sw
                    out[jo, i, 0] += br * bloom32
                    out[jo, i, 1] += bg * bloom32
                    out[jo, i, 2] += bb * bloom32
        return out
    cols = np.empty((w, 7), dtype=np.int64)
    wpix = np.empty((w, 7), dtype=np.float32)
    wblm = np.empty((w, 7), dtype=np.float32)
    for i in range(w):
        dx = _axis_taps(((f32(i) + half) / res_x) * crt_x, crt_x, res_x, w, cols[i])
        _gauss(dx, hard_pix, wpix[i])
        _gauss(dx, hard_bloom_pix, wblm[i])
    rows = np.empty((h, 5), dtype=np.int64)
    wscan = np.empty((h, 3), dtype=np.float32)
    wbscan = np.empty((h, 5), dtype=np.float32)
    used = np.zeros(h, dtype=np.bool_)
    for j in range(h):
        dy = _axis_taps(((f32(j) + half) / res_y) * crt_y, crt_y, res_y, h, rows[j])
        _gauss(dy, hard_scan, wscan[j])
        _gauss(dy, hard_bloom_scan, wbscan[j])
        for o in range(5):
            rows[j, o] = h - 1 - rows[j, o]
            used[rows[j, o]] = True
    # Horizontal sums per used texel row: h3/h5 with the bleed kernel, h7 with the bloom kernel.
    h3 = np.empty((h, w, 3), dtype=np.float32)
    h5 = np.empty((h, w, 3), dtype=np.float32)
    h7 = np.empty((h, w, 3), dtype=np.float32) if use_bloom else h5
    for r in range(h):
        if not used[r]:
            continue
        for i in range(w):
            h3[r, i, 0], h3[r, i, 1], h3[r, i, 2] = _horz(src, r, cols[i], wpix[i], 2, 5, bright32)
            h5[r, i, 0], h5[r, i, 1], h5[r, i, 2] = _horz(src, r, cols[i], wpix[i], 1, 6, bright32)
            if use_bloom:
                h7[r, i, 0], h7[r, i, 1], h7[r, i, 2] = _horz(src, r, cols[i], wblm[i], 0, 7, bright32)
    for j in range(h):
        rm2, rm1, r0, rp1, rp2 = rows[j, 0], rows[j, 1], rows[j, 2], rows[j, 3], rows[j, 4]
        s0, s1, s2 = wscan[j, 0], wscan[j, 1], wscan[j, 2]
        b0, b1, b2, b3, b4 = wbscan[j, 0], wbscan[j, 1], wbscan[j, 2], wbscan[j, 3], wbscan[j, 4]
        for i in range(w):
            for ch in range(3):
                v = h3[rm1, i, ch] * s0 + h5[r0, i, ch] * s1 + h3[rp1, i, ch] * s2
                if use_bloom:
                    v += (
                        h5[rm2, i, ch] * b0
                        + h7[rm1, i, ch] * b1
                        + h7[r0, i, ch] * b2
                        + h7[rp1, i, ch] * b3
                        + h5[rp2, i, ch] * b4
                    ) * bloom32
                out[h - 1 - j, i, ch] = v
    return out


def _stripe_channel(x: np.ndarray) -> np.ndarray:
    """rgbStripe's lit channel (0 R, 1 G, 2 B) from frac(x) against the literal 0.333/0.666 thresholds."""
    f = _fract(x)
    return (f >= _F(0.333)).astype(np.int8) + (f >= _F(0.666)).astype(np.int8)


def phosphor_mask(height: int, width: int, mask: str | int, strength: float) -> np.ndarray:
    """The CRT phosphor mask (§7) as an (H, W, 3) float32 factor in top-down row order.

    Evaluated at gl_FragCoord = (i + 0.5, j + 0.5), j counted from the bottom, so row parity (shadow, vga,
    stretched) follows GL rows. Periods in x: grille 3, shadow 6 (3-px stripes, row parity flips each half),
    stretched 6 (shifts 3 px per row), vga 6 (shifts 3 px per row pair). `none` gives all ones.
    """
    code = MASK_CODES[mask] if isinstance(mask, str) else int(mask)
    if code == 0:
        return np.ones((height, width, 3), dtype=_F)
    ms = _F(strength)
    dark = _F(1.0) * (_F(1.0) - ms) + _F(0.3) * ms
    light = _F(1.0) * (_F(1.0) - ms) + _F(1.8) * ms
    stripes = np.full((3, 3), dark, dtype=_F)  # row c: the factor when channel c is the lit one
    np.fill_diagonal(stripes, light)
    x = (np.arange(width, dtype=_F) + _F(0.5))[None, :]
    y = (np.arange(height - 1, -1, -1, dtype=_F) + _F(0.5))[:, None]
    if code == 1:
        odd = (_fract(x / _F(6.0)) >= _F(0.5)).astype(_F)
        line = np.where(_fract((y + odd) * _F(0.5)) >= _F(0.5), dark, light).astype(_F)
        return stripes[_stripe_channel(x / _F(3.0))] * line[..., None]
    if code == 2:
        channel = _stripe_channel(x / _F(3.0))
    elif code == 3:
        channel = _stripe_channel((x + y * _F(3.0)) / _F(6.0))
    elif code == 4:
        channel = _stripe_channel((np.floor(x) + np.floor(y * _F(0.5)) * _F(3.0)) / _F(6.0))
    else:
        raise ValueError(f"unknown CRT mask {mask!r}; expected one of {sorted(MASK_CODES)} or 0-4")
    return np.ascontiguousarray(np.broadcast_to(stripes[channel], (height, width, 3)))


def _crt_unit(
    color: np.ndarray,
    bleed: float,
    bloom: float,
    brightness: float,
    mask: str | int,
    mask_strength: float,
    scale: float,
    scanlines: float,
    warp: float,
) -> np.ndarray:
    """CRT pass on a float32 top-down image; the result is unclamped float32 (what a float target holds)."""
    if scale <= 0:
        raise ValueError(f"CRT scale must be positive, got {scale}")
    src = np.ascontiguousarray(color, dtype=_F)
    out = _crt_kernel(
        src, float(scale), float(bleed), float(bloom), float(brightness), float(scanlines), float(warp)
    )
    code = MASK_CODES[mask] if isinstance(mask, str) else int(mask)
    if code > 0:
        out *= phosphor_mask(out.shape[0], out.shape[1], code, mask_strength)
    return out


def apply_crt(
    image: np.ndarray,
    bleed: float = 0.4,
    bloom: float = 0.15,
    brightness: float = 1.0,
    mask: str | int = "grille",
    mask_strength: float = 0.5,
    scale: float = 1.5,
    scanlines: float = 0.3,
    warp: float = 0.0,
) -> np.ndarray:
    """CRT pass (§7) on an (H, W, 3) canvas; returns the uint8 canvas it writes (clamped, rounded to nearest).

    Defaults are the original's CRT_DEFAULTS. `mask` is a name (none/shadow/grille/stretched/vga) or its code.
    """
    return _to_uint8(
        _crt_unit(_to_unit(image), bleed, bloom, brightness, mask, mask_strength, scale, scanlines, warp)
    )


def apply_effects(image: np.ndarray, noise: Mapping[str, Any], crt: Mapping[str, Any]) -> np.ndarray:
    """The post chain of §7: CRT then Noise, each only when `enabled`; returns the uint8 canvas.

    Missing keys take the original's defaults (NOISE_DEFAULTS, CRT_DEFAULTS).

    With both on, the CRT result goes through a half-float target (float16, unclamped) into Noise, with
    no 8-bit rounding in between, as in the original's ping-pong HalfFloatType targets.
    """
    noise = {**NOISE_DEFAULTS, **noise}
    crt = {**CRT_DEFAULTS, **crt}
    crt_on = bool(crt["enabled"])
    noise_on = bool(noise["enabled"])
    if not crt_on and not noise_on:
        return np.array(image[..., :3], copy=True) if image.dtype == np.uint8 else _to_uint8(_to_unit(image))
    color = _to_unit(image)
    if crt_on:
        color = _crt_unit(
            color,
            bleed=crt["bleed"],
            bloom=crt["bloom"],
            brightness=crt["brightness"],
            mask=crt["mask"],
            mask_strength=crt["maskStrength"],
            scale=crt["scale"],
            scanlines=crt["scanlines"],
            warp=crt["warp"],
        )
        if noise_on:
            color = color.astype(np.float16).astype(_F)
    if noise_on:
        color = _noise_unit(color, noise["density"], noise["opacity"], noise["size"])
    return _to_uint8(color)
