"""Post effects (renderer-spec §7): the Noise hash in float32, grain statistics, the CRT pass against a
literal transliteration of the original shader, its masks, warp and the CRT → half-float → Noise chain."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.render.effects import (
    MASK_CODES,
    apply_crt,
    apply_effects,
    apply_noise,
    noise_hash,
    phosphor_mask,
)

F = np.float32


# ---------------------------------------------------------------- Noise


def _hash_steps(px: float, py: float) -> np.float32:
    """h(p) with one np.float32 operation per GLSL operation (no arrays, nothing hidden)."""
    x = F(F(px) * F(0.1031))
    x = F(x - np.floor(x))
    y = F(F(py) * F(0.1031))
    y = F(y - np.floor(y))
    z = x
    qx, qy, qz = F(y + F(33.33)), F(z + F(33.33)), F(x + F(33.33))  # p3.yzx + 33.33
    d = F(F(F(x * qx) + F(y * qy)) + F(z * qz))
    x, y, z = F(x + d), F(y + d), F(z + d)
    t = F(F(x + y) * z)
    return F(t - np.floor(t))


def _hash64(px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """The same hash in float64, the way it would come out of a careless port."""
    x = np.asarray(px, np.float64) * 0.1031 % 1.0
    y = np.asarray(py, np.float64) * 0.1031 % 1.0
    z = x
    d = x * (y + 33.33) + y * (z + 33.33) + z * (x + 33.33)
    return ((x + d + y + d) * (z + d)) % 1.0


@pytest.mark.parametrize(
    "cell", [(0, 0), (1, 0), (0, 1), (17, 905), (1023, 1023), (512.0 + 127.1, 3 + 311.7)]
)
def test_noise_hash_matches_float32_step_by_step(cell: tuple[float, float]) -> None:
    got = noise_hash(np.array([cell[0]]), np.array([cell[1]]))
    assert got.dtype == np.float32
    assert got[0] == _hash_steps(*cell)  # bit-exact, not approximately


def test_noise_hash_known_values() -> None:
    # p = 0 gives p3 = 0, dot = 0, h = 0 exactly: the origin cell is never selected unless density = 1.
    assert noise_hash(np.array([0.0]), np.array([0.0]))[0] == 0.0
    h = noise_hash(np.arange(64, dtype=F)[None, :], np.arange(64, dtype=F)[:, None])
    assert h.shape == (64, 64) and h.min() >= 0 and h.max() < 1
    assert 0.45 < h.mean() < 0.55  # a hash, roughly uniform


def test_noise_hash_float64_decides_differently() -> None:
    """Why float32 matters: a float64 port flips the selection of a few percent of the cells."""
    kx, ky = np.meshgrid(np.arange(1024.0), np.arange(1024.0))
    h32 = noise_hash(kx, ky)
    h64 = _hash64(kx, ky)
    flips = (h32 >= F(1.0) - F(0.312)) != (h64 >= 1.0 - 0.312)
    assert 0.01 < flips.mean() < 0.10
    assert np.abs(h32.astype(np.float64) - h64).max() > 0.1  # not rounding noise: different hashes


def test_noise_density_zero_is_identity() -> None:
    img = np.random.default_rng(1).integers(0, 256, (64, 80, 3), dtype=np.uint8)
    out = apply_noise(img, density=0.0, opacity=0.3, size=0.3)
    assert out.dtype == np.uint8 and out.shape == img.shape
    np.testing.assert_array_equal(out, img)


def test_noise_affects_about_density_of_cells_on_grey() -> None:
    grey = np.full((512, 512, 3), 128, np.uint8)
    out = apply_noise(grey, density=0.3, opacity=0.2, size=0.3).astype(int)
    delta = out - 128
    assert (delta[..., 0] == delta[..., 1]).all() and (delta[..., 1] == delta[..., 2]).all()  # grey grain
    changed = delta[..., 0] != 0
    # Selected cells whose value rounds to 0 levels (|h − 0.5| < 0.5/(255·0.2)) stay unchanged: ~2 %.
    assert 0.27 < changed.mean() < 0.31
    assert 0.4 < (delta[..., 0] > 0).sum() / changed.sum() < 0.6
    assert np.abs(delta).max() <= round(0.5 * 0.2 * 255)


def test_noise_on_black_shows_only_positive_half() -> None:
    black = np.zeros((256, 256, 3), np.uint8)
    grey = np.full((256, 256, 3), 128, np.uint8)
    on_black = apply_noise(black, 0.4, 0.25, 0.3).astype(int)
    on_grey = apply_noise(grey, 0.4, 0.25, 0.3).astype(int) - 128
    lit = on_black[..., 0] > 0
    assert 0.16 < lit.mean() < 0.21  # about density/2
    np.testing.assert_array_equal(on_black[..., 0], np.maximum(on_grey[..., 0], 0))


def test_noise_shape_dtype_and_cell_size() -> None:
    img = np.full((8, 4096, 4), 100, np.uint8)  # RGBA input, alpha ignored
    out = apply_noise(img, density=0.5, opacity=0.3, size=0.5)  # s = 0.5·4096/1024 = 2 px cells
    assert out.shape == (8, 4096, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[:, 0::2], out[:, 1::2])
    np.testing.assert_array_equal(out[0::2], out[1::2])  # GL rows 2k, 2k+1 = image rows H−1−2k, H−2−2k
    assert len(np.unique(out)) > 10  # but not constant


def test_noise_grain_lines_up_with_golden_005(shared) -> None:
    """Noise on black with golden/005's settings must reproduce the capture's grain in empty regions."""
    from scipy import ndimage

    golden = np.asarray(Image.open(shared / "golden" / "005.png").convert("RGB")).astype(int)
    cfg = json.loads((shared / "golden" / "005.json").read_text())["noise"]
    ours = apply_noise(np.zeros_like(golden, np.uint8), cfg["density"], cfg["opacity"], cfg["size"])
    # Far from the drawn shapes every pixel is pure grain, hence grey: erode the all-grey area by 7 px.
    grey = (golden[..., 0] == golden[..., 1]) & (golden[..., 1] == golden[..., 2])
    empty = ndimage.binary_erosion(grey, np.ones((15, 15), bool), border_value=1)
    assert empty.mean() > 0.5
    g, o = golden[..., 0][empty], ours[..., 0].astype(int)[empty]
    lit_g, lit_o = g > 0, o > 0
    jaccard = (lit_g & lit_o).sum() / (lit_g | lit_o).sum()
    print(f"golden/005 grain: {lit_g.sum()} lit px, jaccard {jaccard:.5f}, exact {np.mean(g == o):.5f}")
    assert jaccard > 0.999
    assert np.mean(g == o) > 0.999
    # The float64 hash would not line up (about a quarter of the grain moves).
    ky, kx = np.mgrid[1023:-1:-1, 0:1024].astype(np.float64)
    sel = _hash64(kx, ky) >= 1 - cfg["density"]
    val = np.clip((_hash64(kx + 127.1, ky + 311.7) - 0.5) * cfg["opacity"], 0, 1)
    lit64 = (np.floor(val * 255 + 0.5) > 0) & sel
    assert ((lit64[empty] & lit_g).sum() / (lit64[empty] | lit_g).sum()) < 0.9


# ---------------------------------------------------------------- CRT


def _ref_crt(
    img: np.ndarray,
    bleed: float,
    bloom: float,
    bright: float,
    mask: str,
    ms: float,
    scale: float,
    scanlines: float,
    warp: float,
) -> np.ndarray:
    """CrtPass/frag.fs transliterated for all pixels at once in GL coordinates (y up), float32."""
    src = (img.astype(F) / F(255))[::-1]  # GL row order
    h, w = src.shape[:2]
    res = np.array([w, h], F)
    crt = res / F(scale)

    def mix(a: float, b: float, t: float) -> np.float32:
        return F(a) * (F(1) - F(t)) + F(b) * F(t)

    hard_pix, hard_scan = mix(-20, -0.5, bleed), mix(-20, -4, scanlines)
    m_dark, m_light = mix(1, 0.3, ms), mix(1, 1.8, ms)
    j, i = np.mgrid[0:h, 0:w]
    pos = [(i.astype(F) + F(0.5)) / res[0], (j.astype(F) + F(0.5)) / res[1]]
    if warp > 0:
        q = [p * F(2) - F(1) for p in pos]
        q = [q[0] * (F(1) + q[1] * q[1] * F(warp)), q[1] * (F(1) + q[0] * q[0] * F(warp))]
        pos = [p * F(0.5) + F(0.5) for p in q]

    def fetch(ox: int, oy: int) -> np.ndarray:
        idx = []
        for a in range(2):
            u = (np.floor(pos[a] * crt[a] + F((ox, oy)[a])) + F(0.5)) / crt[a]
            u = np.clip(u, F(0), F(1))
            idx.append(np.clip(np.floor(u * res[a]).astype(int), 0, (w, h)[a] - 1))
        return F(bright) * src[idx[1], idx[0]]

    dist = [-((pos[a] * crt[a] - np.floor(pos[a] * crt[a])) - F(0.5)) for a in range(2)]

    def gaus(d: np.ndarray, k: np.float32) -> np.ndarray:
        return np.exp2(F(k) * d * d)

    def horz(m: int, off: int, k) -> np.ndarray:
        ws = [gaus(dist[0] + F(o), k) for o in range(-m, m + 1)]
        acc = sum(fetch(o, off) * wt[..., None] for o, wt in zip(range(-m, m + 1), ws, strict=True))
        return acc / sum(ws)[..., None]

    def scan(off: int, k) -> np.ndarray:
        return gaus(dist[1] + F(off), k)[..., None]

    color = horz(1, -1, hard_pix) * scan(-1, hard_scan) + horz(2, 0, hard_pix) * scan(0, hard_scan)
    color = color + horz(1, 1, hard_pix) * scan(1, hard_scan)
    if bloom > 0:
        bp, bs = mix(-3, -0.5, bloom), mix(-4, -1, bloom)
        b = (
            horz(2, -2, hard_pix) * scan(-2, bs)
            + horz(3, -1, bp) * scan(-1, bs)
            + horz(3, 0, bp) * scan(0, bs)
        )
        b = b + horz(3, 1, bp) * scan(1, bs) + horz(2, 2, hard_pix) * scan(2, bs)
        color = color + b * F(bloom)
    code = MASK_CODES[mask]
    if code:
        x, y = i.astype(F) + F(0.5), j.astype(F) + F(0.5)

        def stripe(v):
            f = v - np.floor(v)
            m = np.full((*f.shape, 3), m_dark, F)
            ch = np.where(f < F(0.333), 0, np.where(f < F(0.666), 1, 2))
            np.put_along_axis(m, ch[..., None], m_light, axis=-1)
            return m

        if code == 1:
            odd = (x / F(6) - np.floor(x / F(6)) >= F(0.5)).astype(F)
            t = (y + odd) * F(0.5)
            line = np.where(t - np.floor(t) >= F(0.5), m_dark, m_light)
            mk = stripe(x / F(3)) * line[..., None]
        elif code == 2:
            mk = stripe(x / F(3))
        elif code == 3:
            mk = stripe((x + y * F(3)) / F(6))
        else:
            mk = stripe((np.floor(x) + np.floor(y * F(0.5)) * F(3)) / F(6))
        color = color * mk
    return np.floor(np.clip(color[::-1], 0, 1) * 255 + 0.5).astype(np.uint8)


_CRT_CASES = [
    # bleed, bloom, brightness, mask, maskStrength, scale, scanlines, warp
    (0.4, 0.15, 1.0, "grille", 0.5, 1.5, 0.3, 0.0),  # the original's defaults
    (0.969, 0.295, 1.425, "grille", 0.104, 2.0, 0.6, 0.0),  # golden/011
    (0.1, 0.0, 0.8, "shadow", 1.0, 2.75, 0.9, 0.0),
    (0.7, 0.6, 1.2, "stretched", 0.3, 1.25, 0.0, 0.0),
    (0.5, 0.3, 1.0, "vga", 0.7, 3.0, 0.5, 0.06),
    (0.2, 0.9, 2.0, "none", 0.5, 1.0, 1.0, 0.1),
]


@pytest.mark.parametrize("case", _CRT_CASES)
def test_crt_matches_shader_transliteration(case: tuple) -> None:
    """Separable fast path and per-pixel warp path both equal a literal all-pixels port of frag.fs."""
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    img[10:14, 20:30] = 255  # some structure for the bloom
    ours = apply_crt(img, *case).astype(int)
    ref = _ref_crt(img, *case).astype(int)
    assert ours.shape == img.shape
    assert np.abs(ours - ref).max() <= 1  # float32 summation order may flip a rounding
    assert np.mean(ours == ref) > 0.99


def test_crt_matches_transliteration_at_full_size() -> None:
    """At 1024² and scale 1.5 virtual-texel borders fall exactly on pixel centres; float32 index arithmetic
    must pick the same texels as the shader there."""
    img = np.random.default_rng(8).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    case = _CRT_CASES[0]
    diff = np.abs(apply_crt(img, *case).astype(int) - _ref_crt(img, *case).astype(int))
    assert diff.max() <= 1 and np.mean(diff == 0) > 0.9999


def test_crt_output_dtype_shape_non_square() -> None:
    img = np.random.default_rng(2).integers(0, 256, (40, 72, 3), dtype=np.uint8)
    out = apply_crt(img)
    assert out.dtype == np.uint8 and out.shape == (40, 72, 3)


def test_crt_sharp_at_scale_one_is_identity() -> None:
    """Scale 1, bleed 0, scanlines 0, no bloom/mask/warp: every tap is the pixel itself (weights 2^-20
    elsewhere), so the image comes back unchanged; this also pins the orientation (no vertical flip)."""
    img = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    out = apply_crt(img, bleed=0, bloom=0, brightness=1, mask="none", scale=1, scanlines=0, warp=0)
    np.testing.assert_array_equal(out, img)


def _scan_sum(dy: float, k: float) -> float:
    return sum(2.0 ** (k * (dy + r) ** 2) for r in (-1, 0, 1))


def test_crt_flat_grey_gets_exact_scanline_profile() -> None:
    """On flat grey the normalised horizontal kernels return the grey, so each row is v·Σ_r 2^(k_s(dy+r)²):
    flat along x, and at scale 4 a period-4 vertical profile with dy ∈ {±0.125, ±0.375}."""
    v = 160
    grey = np.full((64, 64, 3), v, np.uint8)
    for scanlines in (0.0, 1.0):
        out = apply_crt(
            grey, bleed=0, bloom=0, brightness=1, mask="none", scale=4, scanlines=scanlines, warp=0
        )
        assert (out == out[:, :1]).all()  # flat along x, grey
        k = -20 + 16 * scanlines
        # GL row j has dy = 0.5 − frac((j + 0.5)/4); image row r = 63 − j.
        want = [round(v * _scan_sum(0.5 - ((j + 0.5) / 4) % 1, k)) for j in range(64)][::-1]
        np.testing.assert_allclose(out[:, 0, 0], want, atol=1)
    # scanlines 1 (k_s = −4) is the soft end: within [1, 1.125]·v everywhere, i.e. roughly flat.
    soft = apply_crt(grey, bleed=0, bloom=0, brightness=1, mask="none", scale=1.5, scanlines=1, warp=0)
    assert v - 1 <= soft.min() and soft.max() <= round(1.125 * v) + 1
    hard = apply_crt(grey, bleed=0, bloom=0, brightness=1, mask="none", scale=4, scanlines=0, warp=0)
    assert hard.min() < 0.2 * v  # scanlines 0 (k_s = −20) is the hardest: dark gaps between beams


def _lit_channel(out: np.ndarray) -> np.ndarray:
    """Which channel a mask lit, per pixel, for a flat grey input at mask strength 1 (light 1.8, dark 0.3)."""
    return out.argmax(axis=-1)


@pytest.mark.parametrize("mask", ["grille", "shadow", "stretched", "vga"])
def test_crt_mask_stripes_and_periods(mask: str) -> None:
    h, w, v = 24, 36, 60
    grey = np.full((h, w, 3), v, np.uint8)
    out = apply_crt(grey, bleed=0, bloom=0, brightness=1, mask=mask, mask_strength=1, scale=1, scanlines=0)
    levels = set(np.unique(out).tolist())
    if mask == "shadow":
        assert levels == {round(v * 0.3 * 0.3), round(v * 0.3 * 1.8), round(v * 1.8 * 1.8)}
    else:
        assert levels == {round(v * 0.3), round(v * 1.8)}
        assert ((out == round(v * 1.8)).sum(axis=-1) == 1).all()  # exactly one lit channel per pixel
    ch = _lit_channel(out)
    gl = ch[::-1]  # index [j, i] with j counted from the bottom, like gl_FragCoord
    i = np.arange(w)
    if mask in ("grille", "shadow"):
        np.testing.assert_array_equal(gl, np.broadcast_to(i % 3, (h, w)))  # R, G, B columns, period 3
    if mask == "shadow":
        bright = out.max(axis=-1)[::-1] == round(v * 1.8 * 1.8)
        parity = (np.arange(h)[:, None] + (i % 6 >= 3)[None, :]) % 2 == 0
        np.testing.assert_array_equal(bright, parity)  # light even GL rows, flipped in each 6-px half
    if mask == "stretched":
        j = np.arange(h)[:, None]
        np.testing.assert_array_equal(gl, ((i[None, :] + 3 * j + 2) % 6) // 2)  # 2-px stripes, 3-px shift/row
    if mask == "vga":
        j = np.arange(h)[:, None]
        np.testing.assert_array_equal(gl, ((i[None, :] + 3 * (j // 2)) % 6) // 2)  # shift per row pair


@pytest.mark.parametrize("mask", ["stretched", "vga"])
def test_mask_literal_thresholds_keep_pattern_periodic_at_full_size(mask: str) -> None:
    """At 1024² the float32 arguments k/6 land a hair either side of 1/3 and 2/3; the literal 0.333/0.666
    thresholds keep the pattern exactly periodic (exact thirds would break ~17 % of the pixels)."""
    m = phosphor_mask(1024, 1024, mask, 1.0)[::-1]  # GL rows
    ch = m.argmax(axis=-1)
    i, j = np.arange(1024)[None, :], np.arange(1024)[:, None]
    k = (i + 3 * j + 2) if mask == "stretched" else (i + 3 * (j // 2))
    np.testing.assert_array_equal(ch, (k % 6) // 2)


def test_mask_none_and_strength_zero_are_ones() -> None:
    assert (phosphor_mask(5, 7, "none", 1.0) == 1).all()
    for name in ("shadow", "grille", "stretched", "vga"):
        assert (phosphor_mask(5, 7, name, 0.0) == 1).all()
    with pytest.raises((KeyError, ValueError)):
        phosphor_mask(5, 7, "bogus", 0.5)


def test_crt_warp_is_barrel_distortion() -> None:
    """A vertical line right of centre bows like ')': unmoved on the middle row, pulled toward the centre
    at the top and bottom, where the output samples the source at x·(1 + warp·y²)."""
    h = w = 129
    img = np.zeros((h, w, 3), np.uint8)
    x0 = 104
    img[:, x0] = 255
    kw = dict(bleed=0, bloom=0, brightness=1, mask="none", scale=1, scanlines=1)
    flat = apply_crt(img, warp=0, **kw)[..., 0].astype(float)
    warped = apply_crt(img, warp=0.1, **kw)[..., 0].astype(float)
    assert (flat.argmax(axis=1) == x0).all()
    cols = warped.argmax(axis=1)
    mid = h // 2
    assert cols[mid] == x0
    assert cols[0] < x0 and cols[-1] < x0
    # Where the source column x0 is seen at the top row: solve q(1 + 0.1·qy²) = qx0 for qy at the row centre.
    qx0 = 2 * (x0 + 0.5) / w - 1
    qy = 2 * (h - 0.5) / h - 1
    expect = ((qx0 / (1 + 0.1 * qy * qy)) + 1) * w / 2 - 0.5
    assert abs(cols[0] - expect) <= 1
    assert (np.diff(cols[: mid + 1]) >= 0).all()  # monotone: a smooth bow, not a jump


# ---------------------------------------------------------------- the chain

_NOISE = {"enabled": True, "density": 0.4, "opacity": 0.3, "size": 0.3}
_CRT = {
    "enabled": True,
    "bleed": 0.4,
    "bloom": 0.15,
    "brightness": 2.0,
    "mask": "none",
    "maskStrength": 0.5,
    "scale": 1.0,
    "scanlines": 1.0,
    "warp": 0.0,
}


def test_effects_disabled_is_identity() -> None:
    img = np.random.default_rng(4).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    out = apply_effects(img, {**_NOISE, "enabled": False}, {**_CRT, "enabled": False})
    np.testing.assert_array_equal(out, img)
    assert out is not img


def test_effects_missing_keys_take_original_defaults() -> None:
    img = np.random.default_rng(6).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(apply_effects(img, {}, {"enabled": True}), apply_crt(img))
    np.testing.assert_array_equal(
        apply_effects(img, {"enabled": True}, {}), apply_noise(img, 0.11, 0.11, 0.3)
    )


def test_effects_single_pass_matches_its_function() -> None:
    img = np.random.default_rng(5).integers(0, 256, (32, 40, 3), dtype=np.uint8)
    only_noise = apply_effects(img, _NOISE, {**_CRT, "enabled": False})
    np.testing.assert_array_equal(only_noise, apply_noise(img, 0.4, 0.3, 0.3))
    only_crt = apply_effects(img, {**_NOISE, "enabled": False}, _CRT)
    np.testing.assert_array_equal(only_crt, apply_crt(img, 0.4, 0.15, 2.0, "none", 0.5, 1.0, 1.0, 0.0))


def test_effects_crt_then_noise_through_half_float() -> None:
    """Brightness 2 pushes the CRT result above 1; the half-float target keeps it, so negative grain cannot
    pull it below white, unlike a chain through the 8-bit canvas."""
    grey = np.full((64, 64, 3), 200, np.uint8)
    both = apply_effects(grey, _NOISE, _CRT)
    assert (both == 255).all()
    via_canvas = apply_noise(apply_crt(grey, 0.4, 0.15, 2.0, "none", 0.5, 1.0, 1.0, 0.0), 0.4, 0.3, 0.3)
    assert (via_canvas < 255).mean() > 0.1
    # Order is CRT then Noise: at brightness 0.5 the grain is added after dimming, so it keeps full strength.
    dim = apply_effects(grey, _NOISE, {**_CRT, "brightness": 0.5, "bloom": 0.0}).astype(int)
    crt_only = apply_effects(grey, {**_NOISE, "enabled": False}, {**_CRT, "brightness": 0.5, "bloom": 0.0})
    grain = dim - crt_only.astype(int)
    assert np.abs(grain).max() >= round(0.15 * 255) - 2
