"""Supersampling chosen from the design: candidates drawn at 2× and averaged down where its strokes are
thinner than a working pixel.

Why: at the loss's 160 px a Figma design's 1-px strokes are a few tenths of a pixel wide. The target is
area-averaged down to that size, so its lines come out as faint, even traces; the renderer draws a
candidate's sub-pixel tubes at 160 px directly, and they come out differently. On figma-00 (thin nested
squares) the search at 1× ends on a dim blob; drawn at 2× and averaged down (core.refine.evaluate.Scorer)
the candidates' thin strokes look as the target's do, and it ends on thin lines over the design's light.

It is not the default everywhere. At 2× a candidate costs up to 4× the render time, so a time-limited
search makes fewer evaluations, and on most designs that costs more than it gives. Measured with the
refine benchmark (first guess → refine, default budget, 2026-11-30), 2× everywhere against 1×:
- the 20 held-out synthetic targets, seed 0: median lum_corr 0.945 → 0.928 (up on 6, down on 12);
- ref.png (bands, not lines), seeds 0 / 1: lum_corr 0.90 / 0.88 → 0.78 / 0.79;
- figma-00: lum_corr 0.755 / 0.779 → 0.805 / 0.820; figma-01 and figma-02 within seed noise.
Of those, the rule below fires on figma-00 and on 2 of the 20 synthetic targets (004: 0.930 → 0.968; 021
the same). Checked on the 8 targets among the next 80 held-out ones that it picks, which the threshold
was not chosen on (seeds 0 and 1): median lum_corr 0.751 / 0.805 → 0.884 / 0.887 and ssim_skill 0.38 / 0.30
→ 0.52 / 0.47; per run up in 9 of 16 and down in 6. One of the 8 (044) is the renderer's grain alone,
which lines up only when drawn at the target's own size: 0.06 → 0.99 on both seeds. Without it, up in 7
of 14 runs and down in 6: on thin synthetic strokes a small gain at best. On figma-00, the design the
rule is for: lum_corr 0.755 / 0.779 / 0.759 → 0.805 / 0.820 / 0.773 on seeds 0 / 1 / 2.
"""

from __future__ import annotations

from typing import Any

from core.imageio import resize, to_rgb_float
from core.metrics import working_size
from core.metrics.similarity import luminance
from core.refine.evaluate import checked_supersample
from core.refine.gap import ANALYSIS_WIDTH, stroke_width

THIN_STROKE_PX = 0.9
"""A design whose mean stroke is thinner than this many working pixels is scored at `THIN_SUPERSAMPLE`."""
THIN_SUPERSAMPLE = 2
MEASURE_FLOOR_PX = 1.2
"""Stroke width (px at the gap report's 512 px) at or under which the measure tells no thinner lines apart."""


def working_stroke(target: Any, working_width: int) -> float | None:
    """The design's mean stroke width in pixels at `working_width` (None when it is black).

    Measured at the gap report's 512 px (lit area over skeleton length, core.refine.gap.stroke_width) and
    scaled: at 160 px itself a sub-pixel stroke smears into an area and its skeleton is lost."""
    rgb = to_rgb_float(target)
    w, h = working_size(rgb.shape[1], rgb.shape[0], ANALYSIS_WIDTH)
    width = stroke_width(luminance(resize(rgb, w, h)))
    return None if width is None else width * working_width / w


def thin_stroke(target: Any, working_width: int) -> float | None:
    """The design's mean stroke at `working_width` when it is under `THIN_STROKE_PX`, else None."""
    width = working_stroke(target, working_width)
    return width if width is not None and width < THIN_STROKE_PX else None


def auto_supersample(target: Any, working_width: int) -> int:
    """`THIN_SUPERSAMPLE` for a design of strokes thinner than `THIN_STROKE_PX` working pixels, else 1."""
    return 1 if thin_stroke(target, working_width) is None else THIN_SUPERSAMPLE


def resolved_supersample(value: int | None, target: Any, working_width: int) -> int:
    """`value` checked, or the design's own choice (`auto_supersample`) when it is None."""
    return auto_supersample(target, working_width) if value is None else checked_supersample(value)


def supersample_note(target: Any, working_width: int) -> str | None:
    """One sentence for the user when the design is scored at 2× (None otherwise)."""
    width = thin_stroke(target, working_width)
    if width is None:
        return None
    # measured at 512 px, a stroke reads at least about one pixel there: a 3-px line of a 9000-px design
    # (0.05 px at 160) was told as 0.3 px
    floor = MEASURE_FLOOR_PX * working_width / ANALYSIS_WIDTH
    wide = f"at most {floor:.1f} px" if width <= floor else f"{width:.1f} px"
    return (
        f"The design's strokes are {wide} wide at the search's {working_width} px, so the search "
        f"draws its candidates at {THIN_SUPERSAMPLE}× and averages them down, as the design was."
    )
