"""The one parameter schema of the bb-particles renderer (renderer-spec §9): keys, types, defaults, bounds.

Everything else in the package (conversion, validation, sampling, the codec) derives from these
tables, so a key is added or changed here and nowhere else. Flat names are the API's SceneParams
keys; `leva` names are the control-store keys of the original (`Element.geometry`, ...), which the
refs files and the c-string codec use. Bounds are the UI clamp bounds of the original's controls.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

GEOMETRIES: tuple[str, ...] = (
    "ring",
    "bar",
    "line",
    "arch",
    "u",
    "spiral",
    "wave",
    "infinity",
    "square",
    "roundedRect",
)
SCALE_PROGRESSIONS: tuple[str, ...] = ("linear", "exponential", "additive", "fibonacci", "golden", "sine")
ROTATION_PROGRESSIONS: tuple[str, ...] = ("linear", "golden-angle", "fibonacci", "sine")
ALPHA_PROGRESSIONS: tuple[str, ...] = ("exponential", "linear", "inverse")
POSITION_PROGRESSIONS: tuple[str, ...] = ("index", "scale")
ORIGINS: tuple[str, ...] = (
    "center",
    "top-center",
    "bottom-center",
    "top-left",
    "top-right",
    "bottom-left",
    "bottom-right",
)
CRT_MASKS: tuple[str, ...] = ("none", "shadow", "grille", "stretched", "vga")
# bb-llm's colour palette (spec §9); colours in general are any #rgb / #rrggbb hex.
PALETTE: tuple[str, ...] = (
    "#FFFDDD",
    "#FFFEF0",
    "#FFFFF0",
    "#FFF8DC",
    "#FFEFD5",
    "#FFE4B5",
    "#F5DEB3",
    "#EEE8AA",
    "#E8D9A0",
    "#D4C896",
    "#dadada",
    "#adadad",
)

PI = math.pi
COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# Groups.g{i}.g{i}-<name>: the same index twice, no leading zeros (the original builds them from i).
LAYER_KEY_RE = re.compile(r"^Groups\.g(0|[1-9][0-9]*)\.g\1-([A-Za-z0-9_]+)$")


class Kind(StrEnum):
    """Value kinds; each has one checking rule in `checks.py`."""

    NUMBER = "number"  # finite real, clamped to bounds, quantised by the codec
    BOOL = "bool"
    ENUM = "enum"  # one of `options`
    COLOR = "color"  # #rgb / #rrggbb hex
    VEC2 = "vec2"  # {"x", "y"}: JSON through the codec, each component clamped, never quantised
    INTERVAL = "interval"  # [lo, hi]: JSON through the codec, each end clamped, never quantised
    ANY = "any"  # obsolete keys: kept as given, no effect on pixels


@dataclass(frozen=True)
class Param:
    """One parameter: its flat name, its Leva name, kind, default and UI clamp bounds or options."""

    name: str
    leva: str
    kind: Kind
    default: Any = None
    bounds: tuple[float, float] | None = None
    options: tuple[str, ...] | None = None
    integer: bool = False  # sampled as an integer (repetitions); still clamped only, never floored
    obsolete: bool = False  # accepted and preserved for old refs, ignored by the renderer and codec
    doc: str = ""

    def flat_default(self) -> Any:
        """The default as a fresh flat value ({"x", "y"} for vectors, a list for intervals)."""
        if self.kind is Kind.VEC2:
            return {"x": self.default[0], "y": self.default[1]}
        if self.kind is Kind.INTERVAL:
            return list(self.default)
        return self.default


def _n(name: str, leva: str, default: float, lo: float, hi: float, **kw: Any) -> Param:
    return Param(name, leva, Kind.NUMBER, default, (lo, hi), **kw)


def _e(name: str, leva: str, default: str, options: tuple[str, ...]) -> Param:
    return Param(name, leva, Kind.ENUM, default, options=options)


# Top-level flat keys, in the codec's fixed order for flat input (codec-notes "Which path an input takes");
# obsolete keys sit in their Leva folder and are skipped by the codec.
MAIN_PARAMS: tuple[Param, ...] = (
    _e("geometry", "Element.geometry", "ring", GEOMETRIES),
    _n("geoWidth", "Element.geoWidth", 0.041, 0.001, 0.1, doc="tube radius"),
    _n("startAngle", "Element.startAngle", 0, -PI, PI, doc="rad"),
    Param("color", "Element.color", Kind.COLOR, "#efeddb"),
    _n("gradientAngle", "Element.gradientAngle", 0, -PI, PI, doc="rad"),
    Param("gradientRange", "Element.gradientRange", Kind.INTERVAL, (0.2, 1.0), (-1.0, 2.0)),
    Param("width", "Element.width", Kind.ANY, obsolete=True, doc="old tube width"),
    Param("blend", "Element.blend", Kind.ANY, obsolete=True, doc="old presets' blend mode"),
    _n("repetitions", "Scalars.repetitions", 75, 1, 500, integer=True, doc="the renderer floors it"),
    _n("alphaFactor", "Scalars.alphaFactor", 0.68, 0, 1),
    _n("scaleFactor", "Scalars.scaleFactor", 1.03, 0, 2),
    _n("rotationFactor", "Scalars.rotationFactor", -0.48, -1, 1),
    _n("stepFactor", "Scalars.stepFactor", 0.02, 0, 2),
    _e("scaleProgression", "Scalars.scaleProgression", "exponential", SCALE_PROGRESSIONS),
    _e("rotationProgression", "Scalars.rotationProgression", "linear", ROTATION_PROGRESSIONS),
    _e("alphaProgression", "Scalars.alphaProgression", "exponential", ALPHA_PROGRESSIONS),
    _e("positionProgression", "Scalars.positionProgression", "index", POSITION_PROGRESSIONS),
    Param("positionCoupled", "Scalars.positionCoupled", Kind.BOOL, True),
    _e("origin", "Spatial.origin", "top-center", ORIGINS),
    _n("xStep", "Spatial.xStep", -1.5, -2, 2),
    _n("yStep", "Spatial.yStep", 0, -2, 2),
    Param("debug", "Scene.debug", Kind.BOOL, False, doc="one white copy, no instances (never sampled)"),
    Param("position", "Scene.position", Kind.VEC2, (0, -0.5), (-2.0, 2.0)),
    _n("rotation", "Scene.rotation", 0, -PI, PI, doc="rad"),
    _n("scale", "Scene.scale", 0.4, 0, 2),
    Param(
        "animate", "Scene.animate", Kind.BOOL, False, obsolete=True, doc="gradient drift; rendered as false"
    ),
    Param("transform", "Scene.transform", Kind.BOOL, False, obsolete=True, doc="UI-only gizmo switch"),
)


@dataclass(frozen=True)
class Group:
    """A nested flat object (`noise`, `crt`, `dither`) whose members are one Leva folder each."""

    name: str
    prefix: str
    params: tuple[Param, ...]
    obsolete: bool = False

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)


def _group(name: str, prefix: str, members: tuple[tuple[Any, ...], ...], obsolete: bool = False) -> Group:
    params = []
    for sub, kind, default, extra in members:
        kw = {"options": extra} if kind is Kind.ENUM else {"bounds": extra} if extra else {}
        # Kind.ANY marks an obsolete member (Noise.blend, every Dither.*): kept, never rendered.
        params.append(Param(sub, f"{prefix}.{sub}", kind, default, obsolete=kind is Kind.ANY, **kw))
    return Group(name, prefix, tuple(params), obsolete)


NOISE = _group(
    "noise",
    "Noise",
    (
        ("enabled", Kind.BOOL, False, None),
        ("density", Kind.NUMBER, 0.11, (0, 1)),
        ("opacity", Kind.NUMBER, 0.11, (0, 0.3)),
        ("size", Kind.NUMBER, 0.3, (0.1, 0.55)),
        ("blend", Kind.ANY, None, None),
    ),
)
CRT = _group(
    "crt",
    "CRT",
    (
        ("enabled", Kind.BOOL, False, None),
        ("bleed", Kind.NUMBER, 0.4, (0, 1)),
        ("bloom", Kind.NUMBER, 0.15, (0, 1)),
        ("brightness", Kind.NUMBER, 1, (0.5, 2)),
        ("mask", Kind.ENUM, "grille", CRT_MASKS),
        ("maskStrength", Kind.NUMBER, 0.5, (0, 1)),
        ("scale", Kind.NUMBER, 1.5, (1, 8)),
        ("scanlines", Kind.NUMBER, 0.3, (0, 1)),
        ("warp", Kind.NUMBER, 0, (0, 0.1)),
    ),
)
# Older versions' post effect; kept only so the designer's old refs load and round-trip.
DITHER = _group(
    "dither",
    "Dither",
    tuple(
        (sub, Kind.ANY, None, None)
        for sub in ("enabled", "type", "matrix", "colors", "strength", "scale", "bias", "grayscale")
    ),
    obsolete=True,
)
GROUPS: tuple[Group, ...] = (NOISE, CRT, DITHER)

# Flat aliases, lifted into `noise` / `crt` when those objects are absent (spec §2.1).
FLAT_ALIASES: dict[str, tuple[str, str]] = {
    f"{g.name}{p.name[0].upper()}{p.name[1:]}": (g.name, p.name)
    for g in (NOISE, CRT)
    for p in g.params
    if not p.obsolete
}

# Layers (LayerParams): base fields always drawn, overrides replace the main value when present and enabled.
LAYER_BASE_PARAMS: tuple[Param, ...] = (
    Param("position", "position", Kind.VEC2, (-0.003, -0.462), (-2.0, 2.0)),
    _n("rotation", "rotation", 0, -PI, PI, doc="rad"),
    Param("scale", "scale", Kind.VEC2, (-1, 1), (-2.0, 2.0)),
)
LAYER_OVERRIDE_NAMES: tuple[str, ...] = (
    "stepFactor",
    "alphaFactor",
    "scaleFactor",
    "rotationFactor",
    "color",
    "geoWidth",
    "geometry",
    "startAngle",
)
MAIN_BY_NAME: dict[str, Param] = {p.name: p for p in MAIN_PARAMS}
# An override has its main counterpart's kind and bounds; its default is "absent" (use the main value).
LAYER_OVERRIDE_PARAMS: tuple[Param, ...] = tuple(
    Param(n, n, MAIN_BY_NAME[n].kind, None, MAIN_BY_NAME[n].bounds, MAIN_BY_NAME[n].options)
    for n in LAYER_OVERRIDE_NAMES
)
LAYER_PARAMS: dict[str, Param] = {p.name: p for p in LAYER_BASE_PARAMS + LAYER_OVERRIDE_PARAMS}

# Flat-form bookkeeping keys (not renderer parameters): a layer's disabled overrides, and how a
# prefixed map wrapped its values where that differs from the canonical form (see convert.py).
DISABLED_KEY = "disabled"
WRAPPERS_KEY = "_wrappers"

FLAT_KEYS: tuple[str, ...] = (
    *(p.name for p in MAIN_PARAMS),
    *(g.name for g in GROUPS),
    "layers",
    *FLAT_ALIASES,
    WRAPPERS_KEY,
)

# Leva key -> (flat group or None, flat name) for every non-layer key.
LEVA_TO_FLAT: dict[str, tuple[str | None, str]] = {
    **{p.leva: (None, p.name) for p in MAIN_PARAMS},
    **{p.leva: (g.name, p.name) for g in GROUPS for p in g.params},
}


def layer_key(index: int, name: str) -> str:
    """The Leva key of a layer field: `Groups.g{i}.g{i}-<name>`."""
    return f"Groups.g{index}.g{index}-{name}"


def default_layer() -> dict[str, Any]:
    """The one layer the interactive scene draws when a request has no layer keys (spec §2.4)."""
    return {p.name: p.flat_default() for p in LAYER_BASE_PARAMS}


def defaults() -> dict[str, Any]:
    """Every non-obsolete flat key at its default (layers empty: the renderer adds its implicit layer)."""
    out: dict[str, Any] = {p.name: p.flat_default() for p in MAIN_PARAMS if not p.obsolete}
    for g in (NOISE, CRT):
        out[g.name] = {p.name: p.flat_default() for p in g.params if not p.obsolete}
    out["layers"] = []
    return out
