"""Random SceneParams: uniform, bb-llm weighted (renderer-spec §9) and stratified samplers.

Every sample is complete flat SceneParams in the key order of `golden/NNN.json`, scalars rounded to
3 decimals (so the codec's quantisation changes nothing) and inside the UI bounds (so validation
clamps nothing); layer positions and scales are objects and get 4 decimals, like the golden sets.

Sample i of seed s is drawn from its own stream, `SeedSequence(s, spawn_key=(i,))`, so it is the same
whatever n is, and batches can be generated in parallel chunks. The stratified mode balances each
categorical and boolean with seeded per-block permutations (block = i // number of options), so every
complete block holds every option once: counts in any batch differ by at most one, and are exactly
equal when n is a multiple of each option count (420 covers them all).

Noise and CRT members keep their defaults where the effect is disabled (they do not reach the
pixels); `debug` is always false (a diagnostics view, not part of the design space). Every mode ends
with the blowout guard of `blowout.py` unless `blowout_limit=None`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from .blowout import BLOWOUT_LIMIT, guard_scene
from .js import is_whole, quantise
from .schema import (
    ALPHA_PROGRESSIONS,
    CRT,
    CRT_MASKS,
    GEOMETRIES,
    LAYER_OVERRIDE_NAMES,
    LAYER_PARAMS,
    MAIN_BY_NAME,
    NOISE,
    ORIGINS,
    PALETTE,
    PI,
    POSITION_PROGRESSIONS,
    ROTATION_PROGRESSIONS,
    SCALE_PROGRESSIONS,
    Kind,
)

Mode = Literal["uniform", "weighted", "stratified"]
LayerCount = int | tuple[int, int] | None
MODES: tuple[str, ...] = ("uniform", "weighted", "stratified")

# bb-llm's categorical weights, in the order of each option list (spec §9).
WEIGHTS: dict[str, tuple[float, ...]] = {
    "geometry": (5, 1, 1, 2, 1, 1, 1, 5, 1, 5),
    "scaleProgression": (1, 4, 1, 2, 2, 4),
    "rotationProgression": (1, 3, 2, 3),
    "alphaProgression": (4, 2, 1),
    "origin": (6, 2, 2, 1, 1, 1, 1),
    "crt.mask": (1, 1, 5, 1, 1),
    "layer.geometry": (5, 1, 1, 2, 1, 1, 1, 5, 1, 5),
}
P_TRUE: dict[str, float] = {"positionCoupled": 0.7, "noise.enabled": 0.12, "crt.enabled": 0.12}
P_SYMMETRIC = 0.7
RANDOM_LAYER_WEIGHTS = (3, 4, 3, 2, 1, 1)  # 0–5 layers in a non-symmetric scene
MAX_PAIRS = 2  # mirrored pairs after the centre layer
P_OVERRIDE: dict[str, float] = {
    "stepFactor": 0.3,
    "alphaFactor": 0.3,
    "scaleFactor": 0.3,
    "rotationFactor": 0.3,
    "color": 0.2,
    "geoWidth": 0.3,
    "startAngle": 0.2,
    "geometry": 0.4,
}
# Continuous draws: ("u", lo, hi) uniform; ("pow", k, lo, hi) lo + (hi−lo)·u^k;
# ("cb", p, lo, hi) with probability p N(mid, (hi−lo)/4) clamped, else uniform.
DISTRIBUTIONS: dict[str, tuple[Any, ...]] = {
    "alphaFactor": ("pow", 0.4, 0, 1),
    "scaleFactor": ("cb", 0.8, 0, 2),
    "rotationFactor": ("cb", 0.8, -1, 1),
    "stepFactor": ("pow", 2, 0.02, 2),
    "xStep": ("cb", 0.7, -2, 2),
    "yStep": ("cb", 0.7, -2, 2),
    "rotation": ("cb", 0.8, -PI, PI),
    "scale": ("u", 0.05, 2),
    "geoWidth": ("pow", 2.5, 0.001, 0.1),
    "startAngle": ("u", -PI, PI),
    "gradientAngle": ("u", -PI, PI),
    "noise.density": ("u", 0, 1),
    "noise.opacity": ("u", 0, 0.3),
    "noise.size": ("u", 0.1, 0.55),
    "crt.bleed": ("u", 0, 1),
    "crt.bloom": ("u", 0, 1),
    "crt.brightness": ("u", 0.5, 2),
    "crt.maskStrength": ("u", 0, 1),
    "crt.scale": ("u", 1, 8),
    "crt.scanlines": ("u", 0, 1),
    "crt.warp": ("u", 0, 0.1),
    # layer overrides (the layer stepFactor starts at 0, the main one at 0.02)
    "layer.stepFactor": ("pow", 2, 0, 2),
}
# Categoricals and booleans the stratified mode balances (crt.mask is balanced too, but only shows
# where crt is enabled, since disabled effects keep their defaults).
STRATIFIED: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("geometry", GEOMETRIES),
    ("color", PALETTE),
    ("scaleProgression", SCALE_PROGRESSIONS),
    ("rotationProgression", ROTATION_PROGRESSIONS),
    ("alphaProgression", ALPHA_PROGRESSIONS),
    ("positionProgression", POSITION_PROGRESSIONS),
    ("positionCoupled", (True, False)),
    ("origin", ORIGINS),
    ("noise.enabled", (True, False)),
    ("crt.enabled", (True, False)),
    ("crt.mask", CRT_MASKS),
)
_STRATUM_INDEX = {name: k for k, (name, _) in enumerate(STRATIFIED)}
_STRATA_TAG = 0x5747  # spawn-key prefix keeping the strata streams apart from the per-sample streams


def sample_params(
    n: int,
    seed: int,
    mode: Mode = "weighted",
    n_layers: LayerCount = None,
    *,
    blowout_limit: float | None = BLOWOUT_LIMIT,
) -> list[dict[str, Any]]:
    """n complete flat SceneParams.

    mode: "uniform" (uniform within UI bounds and over options), "weighted" (the bb-llm sampler of
    spec §9), "stratified" (weighted, with every categorical and boolean option equally often).
    n_layers: None (the sampler's own layer distribution), 0 (`layers: []`: the renderer draws its
    implicit mirror layer), k (exactly k layers) or (lo, hi) (k uniform in lo…hi, inclusive).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    _check_layer_count(n_layers)
    if not is_whole(n) or n < 0:
        raise ValueError(f"n must be a whole number ≥ 0, not {n!r}")
    if not is_whole(seed) or seed < 0:  # numpy's own words did not name the seed; None drew a random one
        raise ValueError(f"seed must be a whole number ≥ 0 (draws are reproducible by seed), not {seed!r}")
    strata = _Strata(seed) if mode == "stratified" else None
    return [_sample(seed, i, mode, n_layers, strata, blowout_limit) for i in range(n)]


def sample_one(
    seed: int,
    index: int,
    mode: Mode = "weighted",
    n_layers: LayerCount = None,
    *,
    blowout_limit: float | None = BLOWOUT_LIMIT,
) -> dict[str, Any]:
    """Exactly `sample_params(n, seed, mode, n_layers)[index]` for any n > index, without drawing the rest
    (each draw has its own random stream); "stratified" needs the whole batch and is refused."""
    if mode not in MODES or mode == "stratified":
        raise ValueError(f"sample_one draws 'uniform' or 'weighted' scenes, not {mode!r}")
    _check_layer_count(n_layers)
    if index < 0:
        raise ValueError(f"index must be ≥ 0, not {index}")
    return _sample(seed, index, mode, n_layers, None, blowout_limit)


def _check_layer_count(n_layers: LayerCount) -> None:
    if n_layers is None:
        return
    if isinstance(n_layers, tuple) and len(n_layers) == 2:
        lo, hi = n_layers
        if isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi:
            return
    elif isinstance(n_layers, int) and not isinstance(n_layers, bool) and n_layers >= 0:
        return
    raise ValueError(
        f"n_layers must be None, an int ≥ 0 or a (lo, hi) pair with 0 ≤ lo ≤ hi, not {n_layers!r}"
    )


class _Strata:
    """Balanced option indices: sample i takes slot i % K of the seeded permutation of block i // K."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._perms: dict[tuple[int, int], np.ndarray] = {}

    def pick(self, key: str, options: Sequence[Any], index: int) -> Any:
        key_index = _STRATUM_INDEX[key]
        block, slot = divmod(index, len(options))
        perm = self._perms.get((key_index, block))
        if perm is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(_STRATA_TAG, key_index, block))
            perm = self._perms[(key_index, block)] = np.random.default_rng(ss).permutation(len(options))
        return options[int(perm[slot])]


class _Draw:
    """One sample's random choices, with the mode deciding categoricals, booleans and continuous draws."""

    def __init__(self, rng: np.random.Generator, mode: str, index: int, strata: _Strata | None) -> None:
        self.rng, self.mode, self.index, self.strata = rng, mode, index, strata

    def option(self, key: str, options: Sequence[Any]) -> Any:
        if self.strata is not None and key in _STRATUM_INDEX:
            return self.strata.pick(key, options, self.index)
        weights = WEIGHTS.get(key) if self.mode != "uniform" else None
        p = None if weights is None else np.asarray(weights, float) / sum(weights)
        return options[int(self.rng.choice(len(options), p=p))]

    def flag(self, key: str) -> bool:
        if self.strata is not None and key in _STRATUM_INDEX:
            return bool(self.strata.pick(key, (True, False), self.index))
        p = 0.5 if self.mode == "uniform" else P_TRUE[key]
        return bool(self.rng.random() < p)

    def number(self, key: str, bounds: tuple[float, float]) -> float:
        """A continuous value rounded to 3 decimals and kept inside `bounds`."""
        dist = ("u", *bounds) if self.mode == "uniform" else DISTRIBUTIONS.get(key, ("u", *bounds))
        return _round_in(_continuous(self.rng, dist), bounds)

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < (0.5 if self.mode == "uniform" else p))


def _continuous(rng: np.random.Generator, dist: tuple[Any, ...]) -> float:
    if dist[0] == "pow":
        _, k, lo, hi = dist
        return lo + (hi - lo) * rng.random() ** k
    if dist[0] == "cb":
        _, p, lo, hi = dist
        if rng.random() < p:
            return float(np.clip(rng.normal((lo + hi) / 2, (hi - lo) / 4), lo, hi))
        return float(rng.uniform(lo, hi))
    _, lo, hi = dist
    return float(rng.uniform(lo, hi))


def _round_in(value: float, bounds: tuple[float, float]) -> float:
    """3 decimals with the codec's rounding, nudged back inside bounds that are not on the 0.001 grid (±π)."""
    lo, hi = bounds
    v = quantise(value)
    if v > hi:
        v = math.floor(hi * 1000) / 1000
    if v < lo:
        v = math.ceil(lo * 1000) / 1000
    return v + 0.0  # no -0.0


def _round4(value: float) -> float:
    return round(float(value), 4) + 0.0


def _sample(
    seed: int, index: int, mode: str, n_layers: LayerCount, strata: _Strata | None, limit: float | None
) -> dict[str, Any]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
    draw = _Draw(rng, mode, index, strata)
    b = {name: MAIN_BY_NAME[name].bounds for name in MAIN_BY_NAME}
    scene: dict[str, Any] = {
        "geometry": draw.option("geometry", GEOMETRIES),
        "color": draw.option("color", PALETTE),
        "repetitions": _repetitions(rng, mode),
        "alphaFactor": draw.number("alphaFactor", b["alphaFactor"]),
        "scaleFactor": draw.number("scaleFactor", b["scaleFactor"]),
        "rotationFactor": draw.number("rotationFactor", b["rotationFactor"]),
        "stepFactor": draw.number("stepFactor", b["stepFactor"]),
        "scaleProgression": draw.option("scaleProgression", SCALE_PROGRESSIONS),
        "rotationProgression": draw.option("rotationProgression", ROTATION_PROGRESSIONS),
        "alphaProgression": draw.option("alphaProgression", ALPHA_PROGRESSIONS),
        "positionProgression": draw.option("positionProgression", POSITION_PROGRESSIONS),
        "positionCoupled": draw.flag("positionCoupled"),
        "origin": draw.option("origin", ORIGINS),
        "xStep": draw.number("xStep", b["xStep"]),
        "yStep": draw.number("yStep", b["yStep"]),
        "debug": False,
        "position": _position(rng, mode),
        "rotation": draw.number("rotation", b["rotation"]),
        "scale": draw.number("scale", b["scale"]),
        "geoWidth": draw.number("geoWidth", b["geoWidth"]),
        "startAngle": draw.number("startAngle", b["startAngle"]),
        "gradientAngle": draw.number("gradientAngle", b["gradientAngle"]),
        "gradientRange": sorted(_round_in(rng.uniform(-1, 2), (-1, 2)) for _ in range(2)),
    }
    scene["layers"] = _layers(draw, n_layers)
    scene["noise"] = _effect(draw, NOISE.name, NOISE.params)
    scene["crt"] = _effect(draw, CRT.name, CRT.params)
    return guard_scene(scene, limit) if limit is not None else scene


def _repetitions(rng: np.random.Generator, mode: str) -> int:
    if mode != "uniform" and rng.random() < 0.8:
        return int(rng.integers(80, 501))
    return int(rng.integers(1, 501))


def _position(rng: np.random.Generator, mode: str) -> dict[str, float]:
    if mode == "uniform":
        return {"x": _round4(rng.uniform(-2, 2)), "y": _round4(rng.uniform(-2, 2))}
    return {"x": 0, "y": -0.5}  # bb-llm keeps the scene position fixed at its default


def _effect(draw: _Draw, group: str, params: Sequence[Any]) -> dict[str, Any]:
    """Noise / CRT members: drawn where enabled, defaults where disabled."""
    enabled = draw.flag(f"{group}.enabled")
    out: dict[str, Any] = {}
    for p in params:
        if p.obsolete:
            continue
        if p.name == "enabled":
            out["enabled"] = enabled
        elif not enabled:
            out[p.name] = p.default
        elif p.kind is Kind.ENUM:
            out[p.name] = draw.option(f"{group}.{p.name}", p.options)
        else:
            out[p.name] = draw.number(f"{group}.{p.name}", p.bounds)
    return out


def _layer_count(rng: np.random.Generator, n_layers: LayerCount) -> int | None:
    if isinstance(n_layers, tuple):
        return int(rng.integers(n_layers[0], n_layers[1] + 1))
    return n_layers


def _layers(draw: _Draw, n_layers: LayerCount) -> list[dict[str, Any]]:
    rng = draw.rng
    k = _layer_count(rng, n_layers)
    if draw.mode == "uniform":
        count = int(rng.integers(0, 6)) if k is None else k
        return [_random_layer(draw) for _ in range(count)]
    if k == 0:
        return []
    if k is None:
        if rng.random() >= P_SYMMETRIC:
            weights = np.asarray(RANDOM_LAYER_WEIGHTS, float) / sum(RANDOM_LAYER_WEIGHTS)
            return [_random_layer(draw) for _ in range(int(rng.choice(len(weights), p=weights)))]
        centre = draw.mode != "stratified" or rng.random() < 0.5
        pairs = int(rng.integers(0, MAX_PAIRS + 1))
    else:
        if rng.random() >= P_SYMMETRIC:
            return [_random_layer(draw) for _ in range(k)]
        centre, pairs = k % 2 == 1, k // 2  # an even count has no centre layer: pairs start at g0
    return _symmetric_layers(draw, centre, pairs)


def _symmetric_layers(draw: _Draw, centre: bool, pairs: int) -> list[dict[str, Any]]:
    """Optional centre mirror, then pairs: a random layer and its copy mirrored on the axis."""
    axis = ("x", "y", "xy")[int(draw.rng.integers(0, 3))]
    sx, sy = (-1 if "x" in axis else 1), (-1 if "y" in axis else 1)
    layers = []
    if centre:
        layers.append({"position": {"x": 0, "y": 0}, "rotation": 0, "scale": {"x": sx, "y": sy}})
    for _ in range(pairs):
        base = _random_layer(draw)
        mirror = copy.deepcopy(base)
        mirror["scale"] = {"x": base["scale"]["x"] * sx + 0.0, "y": base["scale"]["y"] * sy + 0.0}
        layers += [base, mirror]
    return layers


def _random_layer(draw: _Draw) -> dict[str, Any]:
    rng = draw.rng
    reach = 2.0 if draw.mode == "uniform" else 1.0  # bb-llm draws in [−2, 2], then clamps to [−1, 1]
    layer: dict[str, Any] = {
        "position": {axis: _round4(np.clip(rng.uniform(-2, 2), -reach, reach)) for axis in ("x", "y")},
        "rotation": draw.number("layer.rotation", LAYER_PARAMS["rotation"].bounds),
        "scale": {axis: _round4(rng.uniform(-2, 2)) for axis in ("x", "y")},
    }
    for name in LAYER_OVERRIDE_NAMES:
        if not draw.chance(P_OVERRIDE[name]):
            continue
        if name == "geometry":
            layer[name] = draw.option("layer.geometry", GEOMETRIES)
        elif name == "color":
            layer[name] = draw.option("layer.color", PALETTE)
        else:
            key = f"layer.{name}" if f"layer.{name}" in DISTRIBUTIONS else name
            layer[name] = draw.number(key, LAYER_PARAMS[name].bounds)
    return layer
