"""Flat SceneParams ↔ normalised training targets: the one place that decides what the CNN learns.

Continuous parameters are mapped to roughly [-1, 1] from their schema bounds; `repetitions` and
`geoWidth` in log space (their effect on the picture is multiplicative); angles as (sin, cos) so
−π and π are the same target. `rotationFactor` is a fraction of a turn per instance, not an angle, so
it stays linear. Colour is regressed as RGB rather than classified over the sampler's PALETTE: the
palette's creams differ by a few RGB units that the additive glow saturates away (a classifier could
not tell #FFFEF0 from #FFFFF0), and designs made elsewhere use colours outside the palette.

The layer structure is a categorical "layer mode": none (`layers: []`, the renderer's implicit mirror),
a symmetric centre mirror on x / y / xy (the sampler's centre layer: position 0, rotation 0, scale ±1),
or "other" (any other first layer, whose transform is regressed and decoded as a single layer).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.params import (
    ALPHA_PROGRESSIONS,
    GEOMETRIES,
    MAIN_PARAMS,
    ORIGINS,
    POSITION_PROGRESSIONS,
    ROTATION_PROGRESSIONS,
    SCALE_PROGRESSIONS,
    defaults,
)

LAYER_MODES: tuple[str, ...] = ("none", "mirror_x", "mirror_y", "mirror_xy", "other")
_MIRROR_SCALES: dict[str, tuple[float, float]] = {
    "mirror_x": (-1.0, 1.0),
    "mirror_y": (1.0, -1.0),
    "mirror_xy": (-1.0, -1.0),
}

CATEGORICALS: dict[str, tuple[str, ...]] = {
    "geometry": GEOMETRIES,
    "scaleProgression": SCALE_PROGRESSIONS,
    "rotationProgression": ROTATION_PROGRESSIONS,
    "alphaProgression": ALPHA_PROGRESSIONS,
    "positionProgression": POSITION_PROGRESSIONS,
    "origin": ORIGINS,
    "layerMode": LAYER_MODES,
}
BOOLEANS: tuple[str, ...] = ("positionCoupled", "noise.enabled", "crt.enabled")

_BOUNDS: dict[str, tuple[float, float]] = {p.name: p.bounds for p in MAIN_PARAMS if p.bounds is not None}


@dataclass(frozen=True)
class Continuous:
    """One regressed quantity: a dotted path into flat params and how it is normalised.

    kind: "linear" (bounds → [-1, 1]), "log" (log bounds → [-1, 1]) or "angle" (two outputs: sin, cos).
    layer: True for the first layer's transform, supervised only when the layer mode is "other".
    """

    path: str
    kind: str
    lo: float = 0.0
    hi: float = 1.0
    layer: bool = False

    @property
    def width(self) -> int:
        return 2 if self.kind == "angle" else 1

    @property
    def names(self) -> tuple[str, ...]:
        return (f"{self.path}.sin", f"{self.path}.cos") if self.kind == "angle" else (self.path,)


def _lin(path: str, lo: float, hi: float, layer: bool = False) -> Continuous:
    return Continuous(path, "linear", lo, hi, layer)


CONTINUOUS: tuple[Continuous, ...] = (
    Continuous("repetitions", "log", *_BOUNDS["repetitions"]),
    _lin("alphaFactor", *_BOUNDS["alphaFactor"]),
    _lin("scaleFactor", *_BOUNDS["scaleFactor"]),
    _lin("rotationFactor", *_BOUNDS["rotationFactor"]),
    _lin("stepFactor", *_BOUNDS["stepFactor"]),
    _lin("xStep", *_BOUNDS["xStep"]),
    _lin("yStep", *_BOUNDS["yStep"]),
    _lin("position.x", -2.0, 2.0),
    _lin("position.y", -2.0, 2.0),
    Continuous("rotation", "angle"),
    _lin("scale", *_BOUNDS["scale"]),
    Continuous("geoWidth", "log", *_BOUNDS["geoWidth"]),
    Continuous("startAngle", "angle"),
    Continuous("gradientAngle", "angle"),
    _lin("gradientRange.0", -1.0, 2.0),
    _lin("gradientRange.1", -1.0, 2.0),
    _lin("color.r", 0.0, 1.0),
    _lin("color.g", 0.0, 1.0),
    _lin("color.b", 0.0, 1.0),
    _lin("layer.position.x", -2.0, 2.0, layer=True),
    _lin("layer.position.y", -2.0, 2.0, layer=True),
    Continuous("layer.rotation", "angle", layer=True),
    _lin("layer.scale.x", -2.0, 2.0, layer=True),
    _lin("layer.scale.y", -2.0, 2.0, layer=True),
)
CONTINUOUS_NAMES: tuple[str, ...] = tuple(n for c in CONTINUOUS for n in c.names)
N_CONTINUOUS = len(CONTINUOUS_NAMES)


@dataclass
class Targets:
    """One sample's training targets: continuous vector + its mask, class indices, boolean flags."""

    continuous: np.ndarray  # (N_CONTINUOUS,) float32, roughly in [-1, 1]
    mask: np.ndarray  # (N_CONTINUOUS,) float32: 1 where the value is supervised
    classes: dict[str, int]
    flags: dict[str, float]


def hex_to_rgb(color: str) -> tuple[float, float, float]:
    """#rgb / #rrggbb → floats in [0, 1]."""
    h = color.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return tuple(int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def rgb_to_hex(rgb: tuple[float, float, float] | np.ndarray) -> str:
    """Floats (clipped to [0, 1]) → lower-case #rrggbb, the form `validate` returns."""
    return "#" + "".join(f"{round(float(np.clip(v, 0.0, 1.0)) * 255):02x}" for v in rgb)


def layer_mode(layers: list[Mapping[str, Any]] | None) -> str:
    """The layer-mode class of a flat `layers` list (see module docstring)."""
    if not layers:
        return "none"
    first = layers[0]
    pos, scale = first.get("position", {}), first.get("scale", {})
    centred = abs(pos.get("x", 1)) < 1e-6 and abs(pos.get("y", 1)) < 1e-6
    if centred and abs(first.get("rotation", 1)) < 1e-6:
        signs = (float(scale.get("x", 0)), float(scale.get("y", 0)))
        for mode, mirror in _MIRROR_SCALES.items():
            if signs == mirror:
                return mode
    return "other"


def _raw_value(flat: Mapping[str, Any], path: str) -> float:
    if path.startswith("color."):
        return hex_to_rgb(flat["color"])["rgb".index(path[-1])]
    if path.startswith("layer."):
        first = flat["layers"][0]
        parts = path.split(".")[1:]
        value: Any = first
        for part in parts:
            value = value[part]
        return float(value)
    if path.startswith("gradientRange."):
        return float(flat["gradientRange"][int(path[-1])])
    if path.startswith("position."):
        return float(flat["position"][path[-1]])
    return float(flat[path])


def _normalise(c: Continuous, value: float) -> list[float]:
    if c.kind == "angle":
        return [math.sin(value), math.cos(value)]
    if c.kind == "log":
        lo, hi = math.log(c.lo), math.log(c.hi)
        return [2.0 * (math.log(max(value, c.lo)) - lo) / (hi - lo) - 1.0]
    return [2.0 * (value - c.lo) / (c.hi - c.lo) - 1.0]


def _denormalise(c: Continuous, values: np.ndarray) -> float:
    if c.kind == "angle":
        return math.atan2(float(values[0]), float(values[1]))
    u = (float(np.clip(values[0], -1.0, 1.0)) + 1.0) / 2.0
    if c.kind == "log":
        return math.exp(math.log(c.lo) + u * (math.log(c.hi) - math.log(c.lo)))
    return c.lo + u * (c.hi - c.lo)


def complete(flat: Mapping[str, Any]) -> dict[str, Any]:
    """`flat` over the schema defaults, so partial params encode (layers and effects as given)."""
    full = defaults()
    full.update({k: v for k, v in flat.items() if k in full})
    return full


def encode(flat: Mapping[str, Any]) -> Targets:
    """Targets for flat SceneParams (missing keys take their defaults)."""
    full = complete(flat)
    mode = layer_mode(full["layers"])
    values: list[float] = []
    mask: list[float] = []
    for c in CONTINUOUS:
        supervised = not c.layer or mode == "other"
        values += _normalise(c, _raw_value(full, c.path)) if supervised else [0.0] * c.width
        mask += [1.0 if supervised else 0.0] * c.width
    classes = {
        name: options.index(full[name]) for name, options in CATEGORICALS.items() if name != "layerMode"
    }
    classes["layerMode"] = LAYER_MODES.index(mode)
    flags = {
        "positionCoupled": float(bool(full["positionCoupled"])),
        "noise.enabled": float(bool(full["noise"].get("enabled", False))),
        "crt.enabled": float(bool(full["crt"].get("enabled", False))),
    }
    return Targets(np.asarray(values, np.float32), np.asarray(mask, np.float32), classes, flags)


def _round(value: float, places: int = 3) -> float:
    return round(value, places) + 0.0


def decode(continuous: np.ndarray, classes: Mapping[str, int], flags: Mapping[str, bool]) -> dict[str, Any]:
    """Complete flat SceneParams from a continuous vector, class indices and boolean flags.

    Values are clamped to the schema bounds and rounded to the codec's 3 decimals, so the result
    passes `core.params.validate` unchanged. Noise and CRT members take their defaults when enabled.
    """
    continuous = np.asarray(continuous, np.float64)
    raw: dict[str, float] = {}
    offset = 0
    for c in CONTINUOUS:
        raw[c.path] = _denormalise(c, continuous[offset : offset + c.width])
        offset += c.width
    out = defaults()
    for name, options in CATEGORICALS.items():
        if name != "layerMode":
            out[name] = options[int(classes[name])]
    for path, value in raw.items():
        if "." in path:
            continue
        lo, hi = _BOUNDS[path]
        out[path] = _round(min(max(value, lo), hi))
    out["repetitions"] = int(min(max(round(raw["repetitions"]), 1), 500))
    out["position"] = {"x": _round(raw["position.x"]), "y": _round(raw["position.y"])}
    lo, hi = sorted((_round(raw["gradientRange.0"]), _round(raw["gradientRange.1"])))
    out["gradientRange"] = [lo, hi]
    out["color"] = rgb_to_hex([raw["color.r"], raw["color.g"], raw["color.b"]])
    out["positionCoupled"] = bool(flags["positionCoupled"])
    out["noise"]["enabled"] = bool(flags["noise.enabled"])
    out["crt"]["enabled"] = bool(flags["crt.enabled"])
    out["layers"] = _decode_layers(LAYER_MODES[int(classes["layerMode"])], raw)
    return out


def _decode_layers(mode: str, raw: Mapping[str, float]) -> list[dict[str, Any]]:
    if mode == "none":
        return []
    if mode in _MIRROR_SCALES:
        sx, sy = _MIRROR_SCALES[mode]
        return [{"position": {"x": 0, "y": 0}, "rotation": 0, "scale": {"x": sx, "y": sy}}]
    clip = lambda v: _round(min(max(v, -2.0), 2.0), 4)  # noqa: E731
    return [
        {
            "position": {"x": clip(raw["layer.position.x"]), "y": clip(raw["layer.position.y"])},
            "rotation": _round(min(max(raw["layer.rotation"], -math.pi), math.pi)),
            "scale": {"x": clip(raw["layer.scale.x"]), "y": clip(raw["layer.scale.y"])},
        }
    ]


def natural_errors(pred: np.ndarray, true: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Per-sample absolute errors in natural units for each continuous quantity (NaN where unsupervised).

    pred / true / mask: (n, N_CONTINUOUS) normalised vectors. Angles are wrapped to [0, π] radians;
    repetitions in instances; colours in 0–255 units.
    """
    pred, true, mask = (np.atleast_2d(np.asarray(a, np.float64)) for a in (pred, true, mask))
    out: dict[str, np.ndarray] = {}
    offset = 0
    for c in CONTINUOUS:
        sl = slice(offset, offset + c.width)
        p = np.array([_denormalise(c, row) for row in pred[:, sl]])
        t = np.array([_denormalise(c, row) for row in true[:, sl]])
        err = np.abs(p - t)
        if c.kind == "angle":
            err = np.minimum(err, 2 * math.pi - err)
        if c.path.startswith("color."):
            err = err * 255.0
        err[mask[:, offset] == 0] = np.nan
        out[c.path] = err
        offset += c.width
    return out
