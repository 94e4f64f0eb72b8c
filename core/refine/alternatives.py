"""Top-k categorical alternatives (e.g. the CNN's) → alternative start params for `Refiner(top_k=...)`.

Kept free of any model import: it takes the plain {name: [(option, probability), ...]} mapping that
`core.inverse.Prediction.alternatives` carries, so refinement does not depend on torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.params import MAIN_PARAMS

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
