"""The scaleFactor^repetitions blowout guard for sampled scenes.

Instance scales compound over the repetitions (σ_i = f^i for the exponential progression, spec §3),
so a scaleFactor drawn near the top of its [0, 2] range with a few hundred repetitions gives
instances millions of world units wide: the frame is flooded or empty, the tube meshes hit the near
plane, and a rasteriser spends its time on off-screen triangles. bb-llm's sampler guards against
this; its code is not in the public history we could read, so this guard is our own, documented rule:

    the largest instance, max_i |σ_i| · Scene.scale · max(|layer scale x|, |layer scale y|),
    may be at most `BLOWOUT_LIMIT` = 5 world units (the frame's visible width, spec §1).

A scene over the limit keeps its progression and repetitions; its scaleFactor is moved toward 1
(σ_i ≡ 1 there for every progression) just far enough, then rounded to 3 decimals toward 1. The
golden sets, screened by hand, peak at ≈ 2.6 units, so the limit only trims the runaway tail.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

BLOWOUT_LIMIT = 5.0


def instance_scales(progression: str, factor: float, repetitions: float) -> np.ndarray:
    """σ_i for i = 0 … floor(repetitions) − 1 (spec §3; unknown progressions are exponential)."""
    i = np.arange(max(math.floor(repetitions), 1), dtype=np.float64)
    f = float(factor)
    with np.errstate(over="ignore", invalid="ignore"):
        if progression == "linear":
            return np.maximum(0.01, 1 - 0.1 * i * (1 - f))
        if progression == "additive":
            return 1 + i * (f - 1)
        if progression == "fibonacci":
            exponent = i * np.abs(np.sin(0.1618 * i))
        elif progression == "golden":
            exponent = 0.382 * i
        elif progression == "sine":
            exponent = i * (0.3 + 0.7 * np.abs(np.sin(0.2 * i)))
        else:
            exponent = i
        return np.power(f, exponent)


def largest_instance(progression: str, factor: float, repetitions: float) -> float:
    """max_i |σ_i| (inf when it overflows)."""
    return float(np.max(np.abs(instance_scales(progression, factor, repetitions))))


def guard_scale_factor(progression: str, factor: float, repetitions: float, limit: float) -> float:
    """`factor`, or the value nearest it on the way to 1 whose largest instance is within `limit`."""
    if limit < 1 or largest_instance(progression, factor, repetitions) <= limit:
        return factor  # σ_0 = 1 always, so a limit below 1 cannot be met by any factor
    lo, hi = 0.0, 1.0  # fraction of the way from 1 to factor; lo is always safe
    for _ in range(24):  # 2**-24 of the way: far finer than the 0.001 rounding that follows
        mid = (lo + hi) / 2
        if largest_instance(progression, 1 + mid * (factor - 1), repetitions) <= limit:
            lo = mid
        else:
            hi = mid
    safe = 1 + lo * (factor - 1)
    rounded = math.floor(safe * 1000) / 1000 if factor > 1 else math.ceil(safe * 1000) / 1000
    return rounded if largest_instance(progression, rounded, repetitions) <= limit else 1.0


def spread(scales: Iterable[tuple[float, float]]) -> float:
    """The largest |component| among layer scales (1 when there are none: the main layer's own scale)."""
    return max((max(abs(x), abs(y)) for x, y in scales), default=1.0)


def guard_scene(flat: dict, limit: float = BLOWOUT_LIMIT) -> dict:
    """`flat` (complete, as sampled) with its main and layer scaleFactors guarded in place; returns it.

    The main factor covers the main layer and every layer without a scaleFactor override (or the
    implicit default layer, scale (−1, 1)); an override covers its own layer.
    """
    scene_scale = abs(float(flat["scale"]))
    if scene_scale == 0:
        return flat
    progression, reps = flat["scaleProgression"], flat["repetitions"]
    layers = flat.get("layers") or []
    shared = [(layer["scale"]["x"], layer["scale"]["y"]) for layer in layers if "scaleFactor" not in layer]
    main_spread = max(1.0, spread(shared))
    flat["scaleFactor"] = guard_scale_factor(
        progression, flat["scaleFactor"], reps, limit / (scene_scale * main_spread)
    )
    for layer in layers:
        if "scaleFactor" in layer:
            own = spread([(layer["scale"]["x"], layer["scale"]["y"])])
            if own > 0:
                layer["scaleFactor"] = guard_scale_factor(
                    progression, layer["scaleFactor"], reps, limit / (scene_scale * own)
                )
    return flat
