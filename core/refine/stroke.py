"""The stroke width (geoWidth) fitted at the report's size, after the search.

Why: the working size is 160 px; a 1652-px design's strokes are a pixel or two there at the target's
size and a tenth of a pixel at 160 px, where a tube twice as thick looks nearly the same after the blur.
So the search leaves geoWidth where any value in a wide band scores alike, and only a render at the
report's size tells them apart. Measured (benchmarks/refine.py, first guess → refine, seeds 0 and 1):
synthetic medians ssim 0.919 → 0.927, ssim_skill 0.32 → 0.36, lum_corr 0.910 → 0.913 (seed means);
on the references lum_corr rose (figma-02 0.78 → 0.80) and ssim_skill fell (figma-02 −0.26 → −0.35):
the loss's blurred SSIM and the report's disagree on those thin-stroked designs. A scan of factors of
the current width, not a search: each point costs a full-size render.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core.params import validate
from core.params.schema import MAIN_BY_NAME

FACTORS: tuple[float, ...] = (0.25, 0.4, 0.6, 0.8, 1.25, 1.6, 2.5, 4.0)
"""Multiples of the current geoWidth tried (clipped to its bounds)."""
_LO, _HI = MAIN_BY_NAME["geoWidth"].bounds  # type: ignore[misc]


def fit_stroke(
    params: Mapping[str, Any], value: float, score: Callable[[dict[str, Any]], float]
) -> tuple[dict[str, Any], float]:
    """The best of `params` (whose score is `value`) and its copies with geoWidth × each of FACTORS,
    and its score."""
    best, best_value = dict(params), value
    width = float(params["geoWidth"])
    tried = {round(width, 3)}
    for factor in FACTORS:
        candidate_width = round(min(_HI, max(_LO, width * factor)), 3)
        if candidate_width in tried:
            continue
        tried.add(candidate_width)
        candidate = validate({**params, "geoWidth": candidate_width})
        candidate_value = score(candidate)
        if candidate_value < best_value:
            best, best_value = candidate, candidate_value
    return best, best_value
