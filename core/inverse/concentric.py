"""Concentric rings read off the target: a ring tunnel's radii measured, then drawn as the renderer draws
them.

Why: ten thin concentric rings (a Figma SVG, 1652×919, 3-px strokes) got a hazy bank scene as first
guess (loss 0.476 at 160 px) and refined to a near-black haze (ssim 0.692, ssim_skill −0.11, lum_corr
0.63), while rings drawn by hand (ring, 10 instances, additive ×2, all centred) score 0.25 at 160 px and
0.899 / 0.64 / 0.919 at 512. The search cannot walk from a haze to thin rings: a ring slightly off costs
more than a haze. Neither the bank (the sampler's scenes) nor the anchored trails (core.inverse.motifs:
exponential growth, fixed counts) hold that scene, but the rings can be measured: peaks of the radial
light profile about the light's centre give each ring's radius; their spacing tells an additive
progression (equal steps) from an exponential one (equal ratios).

With positionProgression "index" and zero steps every instance sits at the scene's position, instance
i has radius scale · σ_i · 0.9 world units (spec §3, §5.2), and the frame is 5 units wide.

The same holds for upright nested squares and rounded squares, measured with the largest of |dx|, |dy|
as the distance (an upright square's outline is one such distance from its centre).

The fitted scenes join the first guess's ranking as motifs (core.inverse.guess), so they race only when
they rank first. On those ten rings they did (loss 0.22 against the haze's 0.48), and the refined match
went to ssim 0.915, ssim_skill 0.69, lum_corr 0.93 (seeds 0 and 1 alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.signal import find_peaks, peak_widths

from core.imageio import resize, to_rgb_float
from core.inverse.motifs import HALF_SIZES
from core.metrics.similarity import luminance
from core.params import defaults, validate
from core.params.schema import MAIN_BY_NAME
from core.refine.alternatives import symmetry_variants
from core.refine.pose import VISIBLE_WIDTH
from core.refine.space import complete

PROFILE_WIDTH = 512
"""Width in px the radial profile is measured at (the match report's)."""
MIN_RINGS = 3
"""Fewest rings that make a concentric design (two could be anything)."""
MAX_RINGS = int(MAIN_BY_NAME["repetitions"].bounds[1])
"""The renderer's repetitions bound."""
PEAK_PROMINENCE = 0.1
"""A ring's peak must stand this share of the profile's highest peak above its surroundings."""
RING_SHARE = 0.6
"""Share of the target's light the fitted rings' annuli must hold: a haze or a scene with other shapes
has its light elsewhere, and no concentric start is offered for it."""
BLUR_PX = 0.7
"""Blur of the luminance before the profile: a ring drawn with jagged edges still makes one peak."""
FIT_TOLERANCE = 0.08
"""Largest relative error of a ring's radius under the chosen progression."""


@dataclass(frozen=True)
class ConcentricFit:
    """Concentric outlines measured on a target and the params that draw them."""

    geometry: str  # "ring", "square" or "roundedRect"
    radii: tuple[float, ...]  # px at PROFILE_WIDTH, innermost first (half-sizes for squares)
    progression: str  # "additive" or "exponential"
    factor: float  # the scaleFactor
    params: dict[str, Any]

    @property
    def source(self) -> str:
        """How the first guess names this start (a motif: it races only as the best guess)."""
        shape = f"{self.geometry}s" if self.geometry == "ring" else f"nested {self.geometry}s"
        return f"motif concentric {shape} ({len(self.radii)}, {self.progression} ×{self.factor:.3f})"


def distances(shape: tuple[int, int], centre: tuple[float, float], metric: str) -> np.ndarray:
    """Each pixel's distance from `centre` (x, y in pixel-centre coordinates): Euclidean ("round": a
    ring's outline is one distance) or the largest of |dx|, |dy| ("square": an upright square's is)."""
    y, x = np.indices(shape)
    dx, dy = x - centre[0], y - centre[1]
    return np.hypot(dx, dy) if metric == "round" else np.maximum(np.abs(dx), np.abs(dy))


def radial_profile(lum: np.ndarray, centre: tuple[float, float], metric: str = "round") -> np.ndarray:
    """Mean luminance of each 1-px band of `distances` about `centre`, out to the farthest corner: bin k
    holds distances [k − 0.5, k + 0.5), so an outline at distance k peaks at bin k."""
    r = np.rint(distances(lum.shape, centre, metric)).astype(int).ravel()
    total = np.bincount(r, weights=lum.ravel())
    count = np.bincount(r)
    return total / np.maximum(count, 1)


def sharpest_centre(
    lum: np.ndarray, start: tuple[float, float], metric: str = "round"
) -> tuple[float, float]:
    """The centre about which the radial profile is sharpest (its variance highest), searched about
    `start` (the light's centroid, which a ring cut by the frame pulls aside): 1-px steps over ±4 px on
    the image at half size, then 0.5-px steps over ±1 px at full size about the best (about 0.1 s)."""
    half = lum[: lum.shape[0] // 2 * 2, : lum.shape[1] // 2 * 2]
    half = half.reshape(half.shape[0] // 2, 2, half.shape[1] // 2, 2).mean(axis=(1, 3))
    coarse = ((start[0] - 0.5) / 2, (start[1] - 0.5) / 2)  # pixel centres at half size
    best = _sharpest(half, coarse, 1.0, 4, metric)
    return _sharpest(lum, (2 * best[0] + 0.5, 2 * best[1] + 0.5), 0.5, 2, metric)


def _sharpest(
    lum: np.ndarray, around: tuple[float, float], step: float, reach: int, metric: str
) -> tuple[float, float]:
    grid = [
        (around[0] + step * i, around[1] + step * j)
        for i in range(-reach, reach + 1)
        for j in range(-reach, reach + 1)
    ]
    return max(grid, key=lambda c: float(np.var(radial_profile(lum, c, metric))))


def _subpixel(profile: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Peak positions refined by the parabola through each peak and its two neighbours."""
    left, mid, right = profile[peaks - 1], profile[peaks], profile[np.minimum(peaks + 1, len(profile) - 1)]
    curve = left - 2 * mid + right
    shift = np.where(curve < 0, 0.5 * (left - right) / np.where(curve < 0, curve, -1.0), 0.0)
    return peaks + np.clip(shift, -0.5, 0.5)


def _progression(radii: np.ndarray) -> tuple[str, float] | None:
    """("additive", f_s) for equal steps from the innermost radius, ("exponential", f_s) for equal
    ratios; whichever fits within FIT_TOLERANCE with the smaller error, else None."""
    i = np.arange(len(radii))
    step = np.polyfit(i, radii, 1)
    additive = np.polyval(step, i)
    ratio = np.exp(np.polyfit(i, np.log(radii), 1))
    exponential = ratio[1] * ratio[0] ** i
    errors = {
        "additive": float(np.max(np.abs(additive - radii) / radii)),
        "exponential": float(np.max(np.abs(exponential - radii) / radii)),
    }
    kind = min(errors, key=errors.get)
    if errors[kind] > FIT_TOLERANCE:
        return None
    if kind == "additive":
        first, slope = float(additive[0]), float(step[0])
        return ("additive", 1.0 + slope / first) if first > 0 and slope > 0 else None
    return ("exponential", float(ratio[0])) if ratio[0] > 1 else None


OUTLINES = {"round": ("ring",), "square": ("square", "roundedRect")}
"""Per distance metric, the geometries whose outline is one distance from their centre; that distance in
their own units is core.inverse.motifs.HALF_SIZES (spec §5.2: a ring's radius, a square's half-size)."""


def concentric_rings(image: Any) -> ConcentricFit | None:
    """The concentric rings a target draws, fitted, or None (see `concentric_fits`)."""
    return next((fit for fit in concentric_fits(image) if fit.geometry == "ring"), None)


def concentric_fits(image: Any) -> list[ConcentricFit]:
    """Concentric rings, and upright nested squares and rounded squares, that the target's light fits;
    none when its light is not such outlines about one centre."""
    rgb = to_rgb_float(image)
    h, w = rgb.shape[:2]
    height = max(1, round(PROFILE_WIDTH * h / w))
    lum = gaussian_filter(luminance(resize(rgb, PROFILE_WIDTH, height)), BLUR_PX)
    total = float(lum.sum())
    if total <= 0:
        return []
    y, x = np.indices(lum.shape)
    centroid = (float((lum * x).sum() / total), float((lum * y).sum() / total))
    fits = []
    for metric, shapes in OUTLINES.items():
        measured = _outlines(lum, total, sharpest_centre(lum, centroid, metric), metric)
        if measured is not None:
            found = (_fit(geometry, HALF_SIZES[geometry], *measured, height) for geometry in shapes)
            fits += [fit for fit in found if fit is not None]
    return fits


def _outlines(
    lum: np.ndarray, total: float, centre: tuple[float, float], metric: str
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]] | None:
    """(distances of the outlines, their widths at half height, the centre), or None when fewer than
    MIN_RINGS stand out or they hold under RING_SHARE of the light."""
    profile = radial_profile(lum, centre, metric)
    peaks, _ = find_peaks(profile, prominence=PEAK_PROMINENCE * float(profile.max()), distance=3)
    peaks = peaks[peaks > 2]  # the centre pixel is no outline
    if not MIN_RINGS <= len(peaks) <= MAX_RINGS:
        return None
    halves = peak_widths(profile, peaks, rel_height=0.5)[0]
    r = distances(lum.shape, centre, metric)
    on_outlines = np.zeros(lum.shape, bool)
    for radius, half in zip(peaks, halves, strict=True):
        on_outlines |= np.abs(r - radius) <= max(1.5, half)
    if float(lum[on_outlines].sum()) < RING_SHARE * total:
        return None
    return _subpixel(profile, peaks), halves, centre


def _fit(
    geometry: str,
    half_size: float,
    radii: np.ndarray,
    halves: np.ndarray,
    centre: tuple[float, float],
    height: int,
) -> ConcentricFit | None:
    fitted = _progression(radii)
    if fitted is None:
        return None
    kind, factor = fitted
    bounds = MAIN_BY_NAME["scaleFactor"]
    factor = float(np.clip(round(factor, 3), *bounds.bounds))  # then the size refitted for it
    i = np.arange(len(radii))
    sigma = 1.0 + i * (factor - 1.0) if kind == "additive" else factor**i
    first = float((radii * sigma).sum() / (sigma**2).sum())  # the innermost outline that fits them all
    px_per_unit = PROFILE_WIDTH / VISIBLE_WIDTH
    scale = first / (px_per_unit * half_size)
    middle = len(radii) // 2
    sigma_mid = float(sigma[middle])  # the middle outline's σ: strokes widen with σ (spec §5.3)
    blur_width = 2.355 * BLUR_PX  # the profile's own blur, taken out of the measured width
    stroke = float(np.sqrt(max(halves[middle] ** 2 - blur_width**2, 0.25)))
    params = complete(defaults())
    params.update(
        geometry=geometry,
        repetitions=len(radii),
        scaleProgression=kind,
        scaleFactor=factor,
        positionProgression="index",
        origin="center",
        xStep=0.0,
        yStep=0.0,
        stepFactor=0.0,
        rotationFactor=0.0,
        alphaProgression="exponential",
        alphaFactor=1.0,
        gradientRange=[1.0, 1.0],
        geoWidth=max(0.001, round(stroke / (2 * sigma_mid * scale * px_per_unit), 4)),
        scale=round(min(2.0, scale), 4),
        position={  # the scene's position sits inside its scale (spec §4.1)
            "x": round((centre[0] + 0.5 - PROFILE_WIDTH / 2) / px_per_unit / scale, 4),
            "y": round((height / 2 - centre[1] - 0.5) / px_per_unit / scale, 4),
        },
        rotation=0.0,
    )
    alone = dict(symmetry_variants(validate(params)))["no copy"]  # the implicit mirror layer draws a copy
    return ConcentricFit(geometry, tuple(float(v) for v in radii), kind, factor, alone)


STROKE_STEPS = (0.5, 1.0, 2.0)
"""The measured stroke is a guess within a factor of 2 (a line under a pixel at PROFILE_WIDTH): the first
guess ranks the fitted rings with each of these multiples of its geoWidth."""


def stroke_variants(params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name suffix, params) with geoWidth times each of STROKE_STEPS (the fitted one has no suffix)."""
    out = []
    for step in STROKE_STEPS:
        width = max(0.001, round(params["geoWidth"] * step, 4))
        out.append(("" if step == 1.0 else f" + stroke ×{step:g}", {**params, "geoWidth": width}))
    return out
