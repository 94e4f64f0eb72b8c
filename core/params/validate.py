"""Validation (any form in, clean flat SceneParams out) and resolution (exactly what the renderer consumes).

`validate` is strict where the original is silently lenient (unknown keys, wrong types, NaN, bad
colours, unknown options, numbers the codec would corrupt all raise ParamsError), and lenient exactly
where the original is (numbers and vector components are clamped to the UI bounds, not rounded to a
step). `resolve` adds what happens on the way to the pixels: codec quantisation, defaults, the
implicit default layer, disabled overrides dropped.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from .checks import check_bool, check_value
from .convert import detect_form, layer_overrides, lift_aliases, to_scene_params
from .errors import ParamsError, json_spelling
from .schema import (
    CRT,
    DISABLED_KEY,
    FLAT_KEYS,
    GROUPS,
    LAYER_BASE_PARAMS,
    LAYER_OVERRIDE_NAMES,
    LAYER_PARAMS,
    MAIN_BY_NAME,
    MAIN_PARAMS,
    NOISE,
    WRAPPERS_KEY,
    Kind,
    Param,
    default_layer,
)

__all__ = ["ParamsError", "resolve", "validate"]

# The renderer-facing keys of resolve(), in the order the renderer's contract lists them.
RESOLVED_KEYS: tuple[str, ...] = (
    "geometry",
    "color",
    "repetitions",
    "alphaFactor",
    "scaleFactor",
    "rotationFactor",
    "stepFactor",
    "scaleProgression",
    "rotationProgression",
    "alphaProgression",
    "positionProgression",
    "origin",
    "positionCoupled",
    "debug",
    "xStep",
    "yStep",
    "position",
    "rotation",
    "scale",
    "geoWidth",
    "startAngle",
    "gradientAngle",
    "gradientRange",
)


CURRENT_KEYS: tuple[str, ...] = tuple(
    sorted(
        {p.name for p in MAIN_PARAMS if not p.obsolete}
        | {g.name for g in GROUPS if not g.obsolete}
        | {"layers"}
    )
)
"""The keys an unknown key's error lists and suggests from: the ones a scene is made of today (obsolete keys,
the flat aliases and the converters' record are accepted too, but listing them reads as an invitation)."""


def validate(params: Mapping[str, Any], *, js_bools: bool = False) -> dict[str, Any]:
    """Check params of any form (flat, prefixed, wrapped); return flat SceneParams clamped like the original.

    Only the keys given are returned (no defaults filled; see `resolve`); colours come back lower-case
    #rrggbb, flat aliases folded into `noise`/`crt`, numbers keep their type, obsolete keys untouched,
    layers keep their `disabled` overrides; the converters' `_wrappers` form record is dropped.
    Bool keys take True/False and the numbers 0/1 (the designer's refs store bools that way);
    `js_bools=True` reads any finite number with JavaScript truthiness, as the original's checkbox does.
    """
    return _normalise(_as_flat(params), quantise=False, js_bools=js_bools)


def resolve(params: Mapping[str, Any], *, js_bools: bool = False) -> dict[str, Any]:
    """Exactly what the renderer draws from: every key present, quantised as the codec does, then clamped.

    Shape: the scalars of RESOLVED_KEYS (numbers as float, repetitions not floored), `position`
    {x, y}, `gradientRange` (lo, hi), `noise` {enabled, density, opacity, size}, `crt` {enabled, bleed,
    bloom, brightness, mask, maskStrength, scale, scanlines, warp}, and `layers`: [{position, rotation,
    scale, overrides: {only enabled overrides}}], the implicit default layer when none are given.
    `animate` and other obsolete keys are dropped (the picture is rendered with animate = false).
    """
    flat = _normalise(_as_flat(params), quantise=True, js_bools=js_bools)
    out: dict[str, Any] = {name: _final(MAIN_BY_NAME[name], flat.get(name)) for name in RESOLVED_KEYS}
    for group in (NOISE, CRT):
        given = flat.get(group.name, {})
        out[group.name] = {p.name: _final(p, given.get(p.name)) for p in group.params if not p.obsolete}
    layers = flat.get("layers") or [default_layer()]
    out["layers"] = [_final_layer(layer) for layer in layers]
    return out


def _as_flat(params: Mapping[str, Any]) -> dict[str, Any]:
    if detect_form(params) == "flat":
        return lift_aliases(params)
    return to_scene_params(params)


def _final(param: Param, value: Any) -> Any:
    """A checked value (or the default when absent) in the renderer's types."""
    if value is None:
        value = check_value(param.name, param, param.flat_default(), quantise=True)
    if param.kind is Kind.NUMBER:
        return float(value)
    if param.kind is Kind.VEC2:
        return {"x": float(value["x"]), "y": float(value["y"])}
    if param.kind is Kind.INTERVAL:
        return (float(value[0]), float(value[1]))
    return value


def _final_layer(layer: Mapping[str, Any]) -> dict[str, Any]:
    out = {p.name: _final(p, layer.get(p.name)) for p in LAYER_BASE_PARAMS}
    out["overrides"] = {n: _final(LAYER_PARAMS[n], layer[n]) for n in LAYER_OVERRIDE_NAMES if n in layer}
    return out


def _normalise(flat: Mapping[str, Any], *, quantise: bool, js_bools: bool) -> dict[str, Any]:
    """Every present key checked in canonical order; unknown keys raise."""
    for key in flat:
        if key not in FLAT_KEYS:
            close = difflib.get_close_matches(str(key), CURRENT_KEYS, n=1, cutoff=0.75)
            hint = (
                " (a Leva key in a map without Element.geometry/Scalars.repetitions?)"
                if "." in str(key)
                else f" (did you mean {json_spelling(close[0])}?)"
                if close
                else ""
            )
            raise ParamsError(str(key), flat[key], list(CURRENT_KEYS), f"unknown key{hint}:")
    kw = {"quantise": quantise, "js_bools": js_bools}
    out: dict[str, Any] = {
        p.name: check_value(p.name, p, flat[p.name], **kw) for p in MAIN_PARAMS if p.name in flat
    }
    for group in GROUPS:
        if group.name in flat:
            out[group.name] = _normalise_group(group.name, group.params, flat[group.name], kw)
    if "layers" in flat:
        layers = flat["layers"]
        if not isinstance(layers, list | tuple):
            raise ParamsError("layers", layers, "a list of layer objects")
        out["layers"] = [_normalise_layer(i, layer, kw) for i, layer in enumerate(layers)]
    if WRAPPERS_KEY in flat:
        _check_wrappers(flat[WRAPPERS_KEY])  # conversion metadata: checked, then dropped
    return out


def _normalise_group(
    name: str, params: tuple[Param, ...], members: Any, kw: dict[str, bool]
) -> dict[str, Any]:
    names = [p.name for p in params]
    if not isinstance(members, Mapping):
        raise ParamsError(name, members, f"an object with keys {names}")
    for sub in members:
        if sub not in names:
            raise ParamsError(f"{name}.{sub}", members[sub], names, "unknown key:")
    return {
        p.name: check_value(f"{name}.{p.name}", p, members[p.name], **kw) for p in params if p.name in members
    }


def _normalise_layer(i: int, layer: Any, kw: dict[str, bool]) -> dict[str, Any]:
    path = f"layers[{i}]"
    allowed = [*LAYER_PARAMS, DISABLED_KEY, "overrides"]
    if not isinstance(layer, Mapping):
        raise ParamsError(path, layer, "an object with position, rotation, scale and overrides")
    for name in layer:
        if name not in allowed:
            raise ParamsError(f"{path}.{name}", layer[name], allowed, "unknown key:")
    out = {
        p.name: check_value(f"{path}.{p.name}", p, layer[p.name], **kw)
        for p in LAYER_BASE_PARAMS
        if p.name in layer
    }
    overrides = layer_overrides(layer, path)
    out.update(
        {
            n: check_value(f"{path}.{n}", LAYER_PARAMS[n], overrides[n], **kw)
            for n in LAYER_OVERRIDE_NAMES
            if n in overrides
        }
    )
    if DISABLED_KEY in layer:
        disabled = layer[DISABLED_KEY]
        if not isinstance(disabled, Mapping):
            raise ParamsError(f"{path}.{DISABLED_KEY}", disabled, "an object {override name: value}")
        for name, value in disabled.items():
            if name not in LAYER_OVERRIDE_NAMES or name in overrides:
                raise ParamsError(
                    f"{path}.{DISABLED_KEY}.{name}",
                    value,
                    LAYER_OVERRIDE_NAMES,
                    "unknown, or both enabled and disabled:",
                )
        out[DISABLED_KEY] = {
            n: check_value(f"{path}.{DISABLED_KEY}.{n}", LAYER_PARAMS[n], disabled[n], **kw)
            for n in LAYER_OVERRIDE_NAMES
            if n in disabled
        }
    return out


def _check_wrappers(wrappers: Any) -> None:
    if not isinstance(wrappers, Mapping):
        raise ParamsError(WRAPPERS_KEY, wrappers, "an object {Leva key: true, false or null}")
    for key, flag in wrappers.items():
        if flag is not None:
            check_bool(f"{WRAPPERS_KEY}.{key}", flag, js_bools=False)
