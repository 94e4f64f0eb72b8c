"""What stands between a match and its target, measured, and who can close it: the search or the renderer.

The match report says how far a render is from its target; this says where and what, in words a designer
reads: light the render lacks or adds and where, the target's symmetry, its colours, its stroke width,
its brightness, a fade across each shape. Each finding is decided by numbers it carries, and is labelled:

- "search": the renderer can express the target's side (a mirror layer, another colour, a thinner tube,
  light anywhere in the frame): a better start or a longer search can close it;
- "renderer": the target asks for more than the renderer has (more colours than layers, strokes thinner
  than the thinnest tube at this scale, a shape lit from one side only): the ceiling;
- "metric": the target asks the report's figures for more exactness than an approximate match can give
  (its ssim_skill against itself, enlarged 1 % or moved 1 px, is under the plan's bar);
- "target": the target holds something that is not the design (a bright bar along an edge: a
  screenshot's border), which caps the figures whatever the match;
- "ok": no gap worth naming on this aspect.

`ceiling_words` sums the findings up in one paragraph: the "ceiling stated in words" of the plan's
validation. These are checks, not a proof: a design can need something none of them measures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter, shift, zoom
from skimage.color import rgb2hsv
from skimage.morphology import skeletonize

from core.metrics import prepare_pair
from core.metrics.border import describe, find_borders, without_borders
from core.metrics.similarity import correlation, lum_corr, luminance, ssim, ssim_black, ssim_skill
from core.refine.colour import light_chromaticity, lit_mask
from core.refine.fade import fade_fit

ANALYSIS_WIDTH = 512
"""The match report's working width: findings describe what its figures saw."""
PLACEMENT_SIGMA = 3.0
"""Blur (px at ANALYSIS_WIDTH) before comparing where light falls: a stroke 1 px off is not 'missing'."""
MISPLACED_NOTABLE = 0.2
"""Share of the light in the wrong place above which placement is named as a gap."""
SYMMETRY_CLEAR = 0.6
"""Correlation of an image with its mirror image above which it counts as symmetric that way."""
SYMMETRY_MARGIN = 0.2
"""How much less symmetric than the target a render may be before it is named."""
SATURATED = 0.2
"""HSV saturation below which light counts as neutral (white, cream, grey)."""
HUE_SHARE = 0.15
"""Share of the chromatic light a hue band must hold to count as one of the image's colours."""
HUE_TOLERANCE = 30.0
"""Degrees two hues may differ and still count as the same colour."""
CHROMA_APART = 0.12
"""Largest per-channel difference of the two lights' chromaticities (linear RGB at unit luminance,
core.refine.colour) that still counts as the same colour; hue bands alone call a cream render 'yellow'
where the target's pixels sit just under the saturation cut."""
WIDTH_RATIO = 1.6
"""Stroke widths differing by more than this factor are named."""
BRIGHTNESS_RATIO = 1.5
"""Total light differing by more than this factor is named."""
FILLED_RATIO = 4.0
"""Light this many times wider than the target's strokes is filled area, not a thicker stroke."""
MIN_GEO_WIDTH = 0.001
"""The renderer's thinnest tube radius (schema bound of geoWidth)."""
EXACTNESS_ENLARGE = 1.01
EXACTNESS_SHIFT = 1.0
"""The small errors the exactness check applies to the target itself: 1 % larger about the frame's
centre, and 1 px to the right at ANALYSIS_WIDTH."""
FADE_CLEAR = 0.40
"""R² of the one-sided fade above which the target's shapes count as lit from one side. Renderer-drawn
synthetic targets reached at most 0.10 against their refined matches and 0.26 against 97 first guesses;
figma-02's ring match 0.50 (core.refine.fade)."""
FADE_MARGIN = 0.20
"""How much more a one-sided fade must explain than a symmetric one, which the gradient can draw."""
SKILL_BAR = 0.40
"""The plan's ssim_skill bar for a Figma design; a target whose own small errors fall under it is named."""

SYMMETRIES = {
    "mirror left-right": lambda a: a[:, ::-1],
    "mirror top-bottom": lambda a: a[::-1, :],
    "180° rotation": lambda a: a[::-1, ::-1],
}
HOW_TO_DRAW = {
    "mirror left-right": "a layer with scale.x < 0",
    "mirror top-bottom": "a layer with scale.y < 0",
    "180° rotation": "a layer with scale (−1, −1) or rotation π",
}


@dataclass(frozen=True)
class Finding:
    """One measured difference: what, the numbers, who can close it, and the sentence for people."""

    aspect: str
    verdict: str  # "search" | "renderer" | "metric" | "target" | "ok"
    words: str
    numbers: dict[str, Any]


def analyse_gap(target: Any, render_image: Any, params: Mapping[str, Any] | None = None) -> list[Finding]:
    """Findings on light placement, brightness, symmetry, colour, stroke width, a one-sided fade, the
    figures' exactness and a border in the target, target vs render.

    `params` (the render's flat params) lets the stroke check tell a search gap from the renderer's
    thinnest tube (without them a too-thick stroke is put down to the search), and the fade check sample
    the target along the match's shapes (without them it is not measured).
    """
    t, r = prepare_pair(target, render_image, ANALYSIS_WIDTH)
    t_lum, r_lum = luminance(t), luminance(r)
    return [
        _placement(t_lum, r_lum),
        _brightness(t_lum, r_lum),
        _symmetry(t_lum, r_lum),
        _colour(t, r, params),
        _stroke(t_lum, r_lum, params),
        _fade(t_lum, r_lum, params),
        _exactness(t),
        _border(target, render_image),
    ]


def ceiling_words(findings: list[Finding]) -> str:
    """One paragraph: the renderer's limits first (the ceiling), then what the search left open."""
    limits = [f.words for f in findings if f.verdict == "renderer"]
    search = [f.words for f in findings if f.verdict == "search"]
    metric = [f.words for f in findings if f.verdict == "metric"]
    foreign = [f.words for f in findings if f.verdict == "target"]
    parts = ["Not part of the design: " + " ".join(foreign)] if foreign else []
    if limits:
        parts.append("Renderer ceiling: " + " ".join(limits))
    else:
        parts.append("No renderer limit found by these checks: the renderer can express what they measure.")
    if search:
        parts.append("Left to the search (expressible, not found): " + " ".join(search))
    else:
        parts.append("Nothing left to the search on these checks.")
    if metric:
        parts.append("How exact the figures ask: " + " ".join(metric))
    return " ".join(parts)


def gap_report(target: Any, render_image: Any, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`analyse_gap` as JSON-ready data: {"ceiling": words, "findings": [...]}."""
    findings = analyse_gap(target, render_image, params)
    return {"ceiling": ceiling_words(findings), "findings": [asdict(f) for f in findings]}


def gap_picture(target: Any, render_image: Any) -> np.ndarray:
    """The target dimmed to grey, light the render lacks in red, light it adds in cyan: where the gap is,
    at a glance (float RGB at the analysis width)."""
    t, r = prepare_pair(target, render_image, ANALYSIS_WIDTH)
    t_lum, r_lum = luminance(t), luminance(r)
    tb, rb = gaussian_filter(t_lum, 1.0), gaussian_filter(r_lum, 1.0)
    scale = max(float(np.percentile(tb, 99.5)), float(np.percentile(rb, 99.5)), 1e-6)
    missing = np.clip((tb - rb) / scale, 0, 1)
    extra = np.clip((rb - tb) / scale, 0, 1)
    base = 0.35 * np.clip(t_lum, 0, 1)
    out = np.stack([base + missing, base + extra, base + extra], axis=-1)
    return np.clip(out, 0, 1).astype(np.float32)


def _unit(lum: np.ndarray) -> np.ndarray:
    blurred = gaussian_filter(lum, PLACEMENT_SIGMA)
    total = float(blurred.sum())
    return blurred / total if total > 0 else blurred


def _where(weights: np.ndarray) -> str:
    """'the left third, top' style words for where a non-negative map's mass sits."""
    total = float(weights.sum())
    if total <= 0:
        return "nowhere"
    h, w = weights.shape
    ys, xs = np.indices(weights.shape)
    cx, cy = float((weights * xs).sum() / total) / w, float((weights * ys).sum() / total) / h
    column = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else "centre"
    row = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else "middle"
    return "the centre" if (column, row) == ("centre", "middle") else f"the {row} {column}"


def _placement(t_lum: np.ndarray, r_lum: np.ndarray) -> Finding:
    tu, ru = _unit(t_lum), _unit(r_lum)
    if tu.sum() == 0:
        return Finding("light placement", "ok", "The target is black.", {"misplaced": 0.0})
    if ru.sum() == 0:
        words = "The render is black: all of the target's light is missing."
        return Finding("light placement", "search", words, {"misplaced": 1.0})
    missing, extra = np.clip(tu - ru, 0, None), np.clip(ru - tu, 0, None)
    misplaced = float(missing.sum())  # = extra.sum(): both maps carry unit light
    numbers = {"misplaced": round(misplaced, 3), "missing_at": _where(missing), "extra_at": _where(extra)}
    if misplaced < MISPLACED_NOTABLE:
        return Finding("light placement", "ok", f"{misplaced:.0%} of the light is misplaced.", numbers)
    words = (
        f"{misplaced:.0%} of the target's light falls where the render has none "
        f"(mostly {numbers['missing_at']}), and as much of the render's where the target is dark "
        f"(mostly {numbers['extra_at']}); "
        "the renderer can put light anywhere in the frame."
    )
    return Finding("light placement", "search", words, numbers)


def _brightness(t_lum: np.ndarray, r_lum: np.ndarray) -> Finding:
    t_sum, r_sum = float(t_lum.sum()), float(r_lum.sum())
    ratio = r_sum / t_sum if t_sum > 0 else (1.0 if r_sum == 0 else float("inf"))
    numbers = {"render_over_target": round(ratio, 3)}
    if 1 / BRIGHTNESS_RATIO <= ratio <= BRIGHTNESS_RATIO:
        return Finding("brightness", "ok", f"The render carries {ratio:.2f}× the target's light.", numbers)
    words = (
        f"The render carries {ratio:.2f}× the target's light; "
        "alphaFactor, repetitions and gradientRange set it freely."
    )
    return Finding("brightness", "search", words, numbers)


def symmetry_scores(lum: np.ndarray) -> dict[str, float]:
    """Correlation of a (blurred) luminance map with each of its mirror images about the frame's centre."""
    blurred = gaussian_filter(lum, PLACEMENT_SIGMA)
    return {name: round(correlation(blurred, flip(blurred)), 3) for name, flip in SYMMETRIES.items()}


def _symmetry(t_lum: np.ndarray, r_lum: np.ndarray) -> Finding:
    t_sym, r_sym = symmetry_scores(t_lum), symmetry_scores(r_lum)
    numbers = {"target": t_sym, "render": r_sym}
    lacking = [name for name, v in t_sym.items() if v >= SYMMETRY_CLEAR and r_sym[name] < v - SYMMETRY_MARGIN]
    if not lacking:
        strongest = max(t_sym, key=t_sym.get)  # type: ignore[arg-type]
        if t_sym[strongest] >= SYMMETRY_CLEAR:
            kept = f"({r_sym[strongest]:.2f} vs {t_sym[strongest]:.2f})"
            words = f"The render keeps the target's {strongest} symmetry {kept}."
        else:
            words = "The target has no clear symmetry about the frame's centre."
        return Finding("symmetry", "ok", words, numbers)
    name = max(lacking, key=lambda n: t_sym[n] - r_sym[n])
    words = (
        f"The target is symmetric by {name} (correlation {t_sym[name]:.2f}), the render is not "
        f"({r_sym[name]:.2f}); the renderer draws that symmetry with {HOW_TO_DRAW[name]}."
    )
    return Finding("symmetry", "search", words, numbers)


def palette(image: np.ndarray) -> dict[str, Any]:
    """The colours of an image's light: neutral share, and hue bands (degrees, share of chromatic light)."""
    lum = luminance(image)
    lit = lit_mask(lum)
    if lit is None or not lit.any():
        return {"neutral": 1.0, "hues": []}
    hsv = rgb2hsv(np.clip(image, 0, 1))
    weight = lum[lit]
    chromatic = hsv[..., 1][lit] >= SATURATED
    neutral = float(weight[~chromatic].sum() / weight.sum())
    hues: list[tuple[float, float]] = []
    if chromatic.any():
        hue = hsv[..., 0][lit][chromatic] * 360.0
        w = weight[chromatic]
        hist, edges = np.histogram(hue, bins=36, range=(0, 360), weights=w)
        hist = hist / hist.sum()
        for b in np.argsort(hist)[::-1]:
            centre = float(edges[b] + 5.0)
            share = float(sum(hist[(b + d) % 36] for d in (-1, 0, 1)))
            if share < HUE_SHARE:
                break
            if all(_hue_distance(centre, h) > HUE_TOLERANCE for h, _ in hues):
                hues.append((round(centre), round(share, 3)))
    return {"neutral": round(neutral, 3), "hues": hues}


HUE_NAMES = (
    (15, "red"),
    (45, "orange"),
    (70, "yellow"),
    (160, "green"),
    (200, "cyan"),
    (255, "blue"),
    (290, "violet"),
    (335, "magenta"),
    (360, "red"),
)
"""Upper bounds in degrees of the hue names used in words ("Colours agree: 55°" told a designer little)."""


def hue_words(hue: float) -> str:
    """A hue in degrees as a designer reads it: "yellow (55°)"."""
    name = next(name for bound, name in HUE_NAMES if hue % 360.0 < bound)
    return f"{name} ({round(hue) % 360}°)"


def _hue_distance(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def _colours(p: Mapping[str, Any]) -> int:
    """Colours the renderer draws in a scene: one per layer, main colour and layer overrides."""
    layers = p.get("layers") or [{}]
    return max(1, len({str(layer.get("color", p.get("color"))).lower() for layer in layers}))


def _colour(t: np.ndarray, r: np.ndarray, params: Mapping[str, Any] | None) -> Finding:
    tp, rp = palette(t), palette(r)
    numbers = {"target": tp, "render": rp}
    t_hues = [h for h, _ in tp["hues"]] if tp["neutral"] < 0.8 else []
    r_hues = [h for h, _ in rp["hues"]] if rp["neutral"] < 0.8 else []
    described = ", ".join(map(hue_words, t_hues)) if t_hues else "neutral (white/cream/grey)"
    t_chroma, r_chroma = light_chromaticity(t), light_chromaticity(r)
    apart = 0.0 if t_chroma is None or r_chroma is None else float(np.abs(t_chroma - r_chroma).max())
    numbers["chromaticity_gap"] = round(apart, 3)
    if len(t_hues) > 1 and params is not None and _colours(params) < len(t_hues):
        words = (
            f"The target's light has {len(t_hues)} hues ({described}); one scene layer draws one colour, "
            f"so it needs {len(t_hues)} layers with their own colour (this match has {_colours(params)})."
        )
        return Finding("colour", "search", words, numbers)
    if apart > CHROMA_APART:
        render_desc = ", ".join(map(hue_words, r_hues)) if r_hues else "neutral"
        crt = (params or {}).get("crt") or {}
        why = (
            "the render's CRT mask colours its light (crt.enabled: off removes it)"
            if crt.get("enabled") and len(r_hues) > 1
            else "the colour is a free parameter (per layer)"
        )
        words = f"The target's light is {described}, the render's {render_desc}; {why}."
        return Finding("colour", "search", words, numbers)
    return Finding("colour", "ok", f"Colours agree: {described}.", numbers)


def stroke_width(lum: np.ndarray) -> float | None:
    """Mean stroke width in px: lit area over skeleton length (None when nothing is lit)."""
    lit = lit_mask(lum)
    if lit is None:
        return None
    length = int(skeletonize(lit).sum())
    return float(lit.sum()) / length if length else None


def _stroke(t_lum: np.ndarray, r_lum: np.ndarray, params: Mapping[str, Any] | None) -> Finding:
    tw, rw = stroke_width(t_lum), stroke_width(r_lum)
    numbers = {
        "target_px": None if tw is None else round(tw, 2),
        "render_px": None if rw is None else round(rw, 2),
    }
    if tw is None or rw is None:
        return Finding("stroke width", "ok", "No strokes to compare (one image is black).", numbers)
    ratio = rw / tw
    numbers["render_over_target"] = round(ratio, 3)
    if 1 / WIDTH_RATIO <= ratio <= WIDTH_RATIO:
        return Finding("stroke width", "ok", f"Strokes agree ({rw:.1f} px vs {tw:.1f} px).", numbers)
    at_floor = params is not None and float(params.get("geoWidth", 1.0)) <= MIN_GEO_WIDTH * 1.5
    if ratio > 1 and at_floor:
        words = (
            f"The target's strokes are {tw:.1f} px wide at {ANALYSIS_WIDTH} px, the render's {rw:.1f} px "
            f"at the renderer's thinnest tube (geoWidth {MIN_GEO_WIDTH}) at this scene's scale."
        )
        return Finding("stroke width", "renderer", words, numbers)
    if ratio > FILLED_RATIO:
        words = (
            f"The render fills areas where the target draws lines (light {ratio:.0f}× as wide: {rw:.1f} px "
            f"vs {tw:.1f} px at {ANALYSIS_WIDTH} px); fewer or thinner instances draw lines."
        )
    else:
        words = (
            f"The render's strokes are {ratio:.1f}× the target's ({rw:.1f} px vs {tw:.1f} px at "
            f"{ANALYSIS_WIDTH} px); geoWidth sets the tube's radius."
        )
    return Finding("stroke width", "search", words, numbers)


def _fade(t_lum: np.ndarray, r_lum: np.ndarray, params: Mapping[str, Any] | None) -> Finding:
    """Whether the target lights each shape from one side, which the renderer's symmetric gradient cannot
    (core.refine.fade); measured along the match's own shapes, so only with its params."""
    fit = None if params is None else fade_fit(t_lum, r_lum, params)
    if fit is None:
        why = "no params" if params is None else "too little light along the match's shapes"
        return Finding("one-sided fade", "ok", f"Not measured ({why}).", {})
    one, sym = fit["one_sided"], fit["symmetric"]
    said = (
        f"along the match's shapes, a fade from one side to the other explains {one:.0%} of how the target's "
        f"light differs from the render's, a symmetric one {sym:.0%}"
    )
    if one < FADE_CLEAR or one - sym < FADE_MARGIN:
        return Finding("one-sided fade", "ok", f"No one-sided fade: {said}.", fit)
    words = (
        f"The target lights each shape from one side and leaves the opposite side dark: {said}. The "
        "renderer's gradient is symmetric about a shape's centre (q = 0.5 + 0.5·|p·d|, renderer-spec §6), "
        "so it lights opposite sides alike: no parameter fades a shape from one side to the other (an arch "
        "draws half a ring, cut off, not faded)."
    )
    return Finding("one-sided fade", "renderer", words, fit)


def enlarged(image: np.ndarray, factor: float) -> np.ndarray:
    """`image` scaled by `factor` about its centre, cropped back to its size (factor ≥ 1)."""
    h, w = image.shape[:2]
    big = zoom(image, (factor, factor) + (1,) * (image.ndim - 2), order=1)
    y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return big[y0 : y0 + h, x0 : x0 + w]


def self_skill(t: np.ndarray) -> dict[str, float]:
    """The target's ssim_skill against itself enlarged by EXACTNESS_ENLARGE and moved by EXACTNESS_SHIFT:
    what a match that is right but for that error would score (float RGB at the analysis width)."""
    black, larger = ssim_black(t), enlarged(t, EXACTNESS_ENLARGE)
    moved = shift(t, (0, EXACTNESS_SHIFT) + (0,) * (t.ndim - 2), order=1)
    return {
        "enlarged": round(ssim_skill(ssim(t, larger), black), 3),
        "moved": round(ssim_skill(ssim(t, moved), black), 3),
        "enlarged_lum_corr": round(lum_corr(t, larger), 3),
    }


def _exactness(t: np.ndarray) -> Finding:
    """Why ssim_skill stays low for a close match of a design of thin, sharp outlines: measured on the
    target alone. figma-00 (20 thin squares) scores 0.32 against itself 1 % larger and 0.38 moved 1 px,
    where ref.png keeps 0.67 / 0.75."""
    own = self_skill(t)
    pct, px = round(100 * (EXACTNESS_ENLARGE - 1)), EXACTNESS_SHIFT
    said = (
        f"Against itself {pct} % larger or {px:g} px to the side, the target scores ssim_skill "
        f"{own['enlarged']:.2f} / {own['moved']:.2f}"
    )
    if min(own["enlarged"], own["moved"]) >= SKILL_BAR:
        words = said + ": what a match off by that much, and right in all else, reaches."
        return Finding("exactness", "ok", words, own)
    words = (
        f"{said}, under the {SKILL_BAR:.2f} bar: its outlines are so thin that ssim_skill ≥ {SKILL_BAR:.2f} "
        f"asks every one of them to sit within {pct} % of its size and {px:g} px of its place (lum_corr "
        f"asks less: {own['enlarged_lum_corr']:.2f} at {pct} % larger)."
    )
    return Finding("exactness", "metric", words, own)


def _border(target: Any, render_image: Any) -> Finding:
    """A bright bar along the target's edges (core.metrics.border), found at the target's own size, and
    what it costs the match: lum_corr against the target with the bar painted black."""
    borders = find_borders(target)
    if not borders:
        return Finding("frame border", "ok", "No bright bar along the frame's edges.", {"borders": []})
    as_given = lum_corr(*prepare_pair(target, render_image, ANALYSIS_WIDTH))
    cleaned = lum_corr(*prepare_pair(without_borders(target, borders), render_image, ANALYSIS_WIDTH))
    words = (
        f"The target has {describe(borders)}, a screenshot's or frame's border: no scene draws it beside "
        f"the design. Against the target without it, this match's lum_corr is {cleaned:.3f} "
        f"({as_given:.3f} with it)."
    )
    numbers = {
        "borders": [asdict(b) for b in borders],
        "lum_corr": round(as_given, 4),
        "lum_corr_without": round(cleaned, 4),
    }
    return Finding("frame border", "target", words, numbers)
