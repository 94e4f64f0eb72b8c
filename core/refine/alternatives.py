"""Top-k categorical alternatives (e.g. the CNN's) → alternative start params for `Refiner(top_k=...)`.

Kept free of any model import: it takes the plain {name: [(option, probability), ...]} mapping that
`core.inverse.Prediction.alternatives` carries, so refinement does not depend on torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.params import MAIN_PARAMS, validate
from core.refine.space import MAIN_CHOICES, complete

_MAIN_OPTIONS = {p.name: p.options for p in MAIN_PARAMS if p.options}


def alternative_starts(
    params: Mapping[str, Any], alternatives: Mapping[str, Sequence[tuple[str, float]]], k: int = 4
) -> list[dict[str, Any]]:
    """`params` first, then the k − 1 most probable single-categorical swaps of it.

    A swap replaces one main categorical with a runner-up option; swaps are ranked by that option's
    probability. Names that are not main categoricals of the schema (e.g. a layer mode) are skipped.
    """
    swaps = []
    for name, ranked in alternatives.items():
        options = _MAIN_OPTIONS.get(name)
        if options is None:
            continue
        for option, probability in ranked:
            if option in options and option != params.get(name):
                swaps.append((float(probability), name, option))
    swaps.sort(key=lambda s: -s[0])
    out = [dict(params)]
    out += [{**params, name: option} for _, name, option in swaps[: max(0, k - 1)]]
    return out


def category_swaps(params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every one-categorical change of the scene's main choices (geometry, progressions, origin, …), as
    (name=option, params) pairs."""
    options = {p.name: (p.options or (True, False)) for p in MAIN_PARAMS if p.name in MAIN_CHOICES}
    return [
        (f"{name}={option}", validate({**params, name: option}))
        for name in MAIN_CHOICES
        for option in options[name]
        if option != params.get(name)
    ]


SYMMETRIES: dict[str, tuple[float, float]] = {
    "mirror left-right": (-1.0, 1.0),
    "mirror top-bottom": (1.0, -1.0),
    "180° rotation": (-1.0, -1.0),
}
"""Layer scale signs that copy the main layer into each symmetry about the frame's centre."""


def symmetry_variants(params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The scene as one main layer plus one copy of it for each symmetry about the frame's centre, and
    with no copy: (name, params) pairs.

    Why: a layer's scale signs are categoricals that multi-start CMA-ES holds fixed per start, and turning
    a mirror into a point symmetry also moves the layer (to −position), so the search cannot walk there; a
    start drawn with the wrong symmetry stays wrong. Spec §4: the main layer draws d at p, layer k draws
    a ⊙ d at l (both inside the scene's rotation and scale), so l = a ⊙ p mirrors the design about the
    centre. The copy keeps the overrides of the scene's first layer, if any.
    """
    flat = complete(params)
    p = flat["position"]
    first = {k: v for k, v in flat["layers"][0].items() if k not in ("position", "rotation", "scale")}
    out = []
    for name, (sx, sy) in SYMMETRIES.items():
        layer = {
            **first,
            "position": {"x": sx * p["x"] + 0.0, "y": sy * p["y"] + 0.0},
            "rotation": 0.0,
            "scale": {"x": sx, "y": sy},
        }
        out.append((name, {**flat, "layers": [layer]}))
    hidden = {"position": dict(p), "rotation": 0.0, "scale": {"x": 0.0, "y": 0.0}}
    out.append(("no copy", {**flat, "layers": [hidden]}))
    return out
