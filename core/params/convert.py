"""Flat SceneParams ⇄ Leva-prefixed maps, losslessly, plus the codec's input-form check.

Lossless means both round trips are exact (dict equality):
`to_scene_params(to_prefixed(flat, wrapped=w)) == flat` and
`to_prefixed(to_scene_params(p), wrapped=detect_form(p) == "wrapped") == p`.
Two flat-form entries make that possible where the flat form alone could not say it:

* a layer's **disabled** overrides (`{value, disabled: true}` in Leva) go to the layer's
  `"disabled": {name: value}` entry; the renderer ignores them, the converters keep them;
* `"_wrappers": {leva key: disabled flag or None}` records entries whose `{value, disabled}` wrapper
  differs from the canonical one for the map's form (canonical: bare values in a prefixed map,
  `{value, disabled: false}` in a wrapped map, `{value, disabled: true}` for a disabled override).
  Only a few hand-edited refs lines mix the two forms, so the key is usually absent (a decoded
  c-string, whose main keys carry no flag, gets one entry per such key). It is conversion
  metadata, not a parameter: `validate` checks it and drops it, the codec and renderer ignore it.

Neither converter validates values (see `validate.py`), and neither fills defaults unless asked:
missing keys mean "the renderer's default" and stay missing, so round trips stay exact.
The plan's converters filled stale defaults (#FFFDDD, 65 repetitions ...); `fill_defaults=True`
fills the spec's defaults instead. Key order is canonical (the codec's fixed order), not the input's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from .errors import ParamsError
from .schema import (
    DISABLED_KEY,
    FLAT_ALIASES,
    FLAT_KEYS,
    GROUPS,
    LAYER_BASE_PARAMS,
    LAYER_KEY_RE,
    LAYER_OVERRIDE_NAMES,
    LAYER_PARAMS,
    LEVA_TO_FLAT,
    MAIN_PARAMS,
    WRAPPERS_KEY,
    defaults,
    layer_key,
)

Form = Literal["flat", "prefixed", "wrapped"]
EntryRole = Literal["main", "group", "layer", "override", "disabled", "obsolete"]
_MISSING = object()
_LAYER_FIELDS = (*(p.name for p in LAYER_BASE_PARAMS), *LAYER_OVERRIDE_NAMES)


def is_wrapper(value: Any) -> bool:
    """A Leva `{value[, disabled]}` entry."""
    return isinstance(value, Mapping) and "value" in value and set(value) <= {"value", "disabled"}


def detect_form(params: Mapping[str, Any]) -> Form:
    """Which path the original's API takes for an input (codec-notes "Which path an input takes").

    "wrapped": every value is `{value[, disabled]}` (so `{}` too); "prefixed": otherwise, when
    `Element.geometry` or `Scalars.repetitions` is present; "flat": everything else.
    """
    if not isinstance(params, Mapping):
        raise ParamsError("<params>", params, "a JSON object (dict)", "not a mapping:")
    if all(isinstance(v, Mapping) and "value" in v for v in params.values()):
        return "wrapped"
    if "Element.geometry" in params or "Scalars.repetitions" in params:
        return "prefixed"
    return "flat"


def lift_aliases(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Flat `noiseEnabled…`/`crtWarp…` folded into `noise`/`crt` where those objects are absent.

    As in the original, aliases are ignored where the object is present; the result has no aliases.
    """
    out = {k: v for k, v in flat.items() if k not in FLAT_ALIASES}
    lifted: dict[str, dict[str, Any]] = {}
    for alias, (group, name) in FLAT_ALIASES.items():
        if alias in flat and group not in flat:
            lifted.setdefault(group, {})[name] = flat[alias]
    out.update(lifted)
    return out


def layer_overrides(layer: Mapping[str, Any], path: str) -> dict[str, Any]:
    """A flat layer's enabled overrides, inline or (the resolved shape) under `"overrides"`."""
    found = {n: layer[n] for n in LAYER_OVERRIDE_NAMES if n in layer}
    nested = layer.get("overrides", {})
    if not isinstance(nested, Mapping):
        raise ParamsError(f"{path}.overrides", nested, "an object {name: value}")
    for name, value in nested.items():
        if name not in LAYER_OVERRIDE_NAMES or name in found:
            raise ParamsError(f"{path}.overrides.{name}", value, LAYER_OVERRIDE_NAMES, "unknown or repeated")
        found[name] = value
    return found


def flat_entries(flat: Mapping[str, Any]) -> Iterator[tuple[str, Any, EntryRole]]:
    """(Leva key, value, role) for every present flat key, in the codec's fixed order (aliases lifted)."""
    flat = lift_aliases(flat)
    for key in flat:
        if key not in FLAT_KEYS:
            hint = " (a Leva key in a flat map?)" if "." in key else ""
            raise ParamsError(key, flat[key], "flat SceneParams keys", f"unknown key{hint}:")
    for p in MAIN_PARAMS:
        if p.name in flat:
            yield p.leva, flat[p.name], "obsolete" if p.obsolete else "main"
    for g in GROUPS:
        if g.name not in flat:
            continue
        members = flat[g.name]
        if not isinstance(members, Mapping):
            raise ParamsError(g.name, members, f"an object with keys {[p.name for p in g.params]}")
        for sub in members:
            if sub not in {p.name for p in g.params}:
                raise ParamsError(f"{g.name}.{sub}", members[sub], [p.name for p in g.params], "unknown key:")
        for p in g.params:
            if p.name in members:
                yield p.leva, members[p.name], "obsolete" if p.obsolete else "group"
    layers = flat.get("layers", [])
    if not isinstance(layers, list | tuple):
        raise ParamsError("layers", layers, "a list of layer objects")
    for i, layer in enumerate(layers):
        yield from _layer_entries(i, layer)


def _layer_entries(i: int, layer: Any) -> Iterator[tuple[str, Any, EntryRole]]:
    path = f"layers[{i}]"
    if not isinstance(layer, Mapping):
        raise ParamsError(path, layer, "an object with position, rotation, scale and overrides")
    allowed = {*_LAYER_FIELDS, DISABLED_KEY, "overrides"}
    for name in layer:
        if name not in allowed:
            raise ParamsError(f"{path}.{name}", layer[name], sorted(allowed), "unknown key:")
    disabled = layer.get(DISABLED_KEY, {})
    if not isinstance(disabled, Mapping):
        raise ParamsError(f"{path}.{DISABLED_KEY}", disabled, "an object {override name: value}")
    overrides = layer_overrides(layer, path)
    for name in disabled:
        if name not in LAYER_OVERRIDE_NAMES or name in overrides:
            raise ParamsError(
                f"{path}.{DISABLED_KEY}.{name}",
                disabled[name],
                LAYER_OVERRIDE_NAMES,
                "unknown, or both enabled and disabled:",
            )
    if not any(n in layer for n in _LAYER_FIELDS) and not overrides and not disabled:
        # Leva has no key for an empty layer: it would vanish and shift the later layers' indices.
        raise ParamsError(
            path,
            layer,
            "at least one of position, rotation, scale or an override",
            "an empty layer has no Leva form:",
        )
    for p in LAYER_BASE_PARAMS:
        if p.name in layer:
            yield layer_key(i, p.name), layer[p.name], "layer"
    for name in LAYER_OVERRIDE_NAMES:
        if name in overrides:
            yield layer_key(i, name), overrides[name], "override"
        elif name in disabled:
            yield layer_key(i, name), disabled[name], "disabled"


def to_prefixed(
    flat: Mapping[str, Any], wrapped: bool = False, fill_defaults: bool = False
) -> dict[str, Any]:
    """Flat SceneParams → Leva-prefixed map (bare values, or `{value, disabled}` when `wrapped`).

    Disabled layer overrides are always written `{value, disabled: true}` (a bare value cannot say
    "disabled"); `_wrappers` entries restore any non-canonical wrapper recorded by `to_scene_params`.
    `fill_defaults` fills every missing non-obsolete key (and layer position/rotation/scale) first.
    """
    if not isinstance(flat, Mapping):
        raise ParamsError("<params>", flat, "a JSON object (dict)", "not a mapping:")
    source = dict(flat)
    wrappers = source.pop(WRAPPERS_KEY, None) or {}
    if fill_defaults:
        source = _filled(lift_aliases(source))
    out: dict[str, Any] = {}
    for key, value, role in flat_entries(source):
        if key in wrappers:
            flag = wrappers[key]
            out[key] = {"value": value} if flag is None else {"value": value, "disabled": flag}
        elif role == "disabled":
            out[key] = {"value": value, "disabled": True}
        elif wrapped:
            out[key] = {"value": value, "disabled": False}
        else:
            out[key] = value
    return out


def to_scene_params(prefixed: Mapping[str, Any], fill_defaults: bool = False) -> dict[str, Any]:
    """Leva-prefixed map (bare, wrapped, or mixed per value) → flat SceneParams.

    Unknown Leva keys and gaps in the layer indices raise ParamsError (nothing is dropped silently).
    A disabled layer override is not applied: it is kept under the layer's `"disabled"` entry.
    The result always has `layers` (a prefixed map always implies a layer list, `[]` without Groups keys).
    """
    if not isinstance(prefixed, Mapping):
        raise ParamsError("<params>", prefixed, "a JSON object (dict)", "not a mapping:")
    all_wrapped = bool(prefixed) and all(is_wrapper(v) for v in prefixed.values())
    canonical_flag: Any = False if all_wrapped else _MISSING  # _MISSING: a bare value
    main: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    layers: dict[int, dict[str, Any]] = {}
    wrappers: dict[str, Any] = {}
    for key, raw in prefixed.items():
        value, flag = (raw["value"], raw.get("disabled")) if is_wrapper(raw) else (raw, _MISSING)
        expected = canonical_flag
        match = LAYER_KEY_RE.match(key) if isinstance(key, str) else None
        if match:
            index, name = int(match.group(1)), match.group(2)
            if name not in LAYER_PARAMS:
                raise ParamsError(key, raw, sorted(LAYER_PARAMS), "unknown layer field:")
            layer = layers.setdefault(index, {})
            if name in LAYER_OVERRIDE_NAMES and flag is not _MISSING and flag:
                layer.setdefault(DISABLED_KEY, {})[name] = value
                expected = True
            else:
                layer[name] = value
        elif key in LEVA_TO_FLAT:
            group, name = LEVA_TO_FLAT[key]
            (groups.setdefault(group, {}) if group else main)[name] = value
        else:
            leva = next((p.leva for p in MAIN_PARAMS if p.name == key), None)
            hint = (  # {"geometry": {"value": "ring"}}: a flat key in the wrapped form, not an unknown one
                f" (a flat key with a {{value}} wrapper: wrapped values go with Leva keys, here {leva}; "
                "flat keys take bare values)"
                if leva
                else ""
            )
            raise ParamsError(
                str(key),
                raw,
                "Leva keys of the schema (Element.*, Scalars.*, ..., Groups.g{i}.g{i}-*)",
                f"unknown key{hint}:",
            )
        if flag is not expected:
            wrappers[key] = flag
    if sorted(layers) != list(range(len(layers))):
        raise ParamsError("Groups", sorted(layers), "layer indices 0…n−1 without gaps", "layer indices")
    flat = _assemble(main, groups, [layers[i] for i in range(len(layers))])
    if wrappers:
        flat[WRAPPERS_KEY] = wrappers
    return _filled(flat) if fill_defaults else flat


def _assemble(main: dict[str, Any], groups: dict[str, dict[str, Any]], layers: list[dict[str, Any]]) -> dict:
    """Canonical key order: main keys, groups, layers (fields in schema order, `disabled` last)."""
    flat: dict[str, Any] = {p.name: main[p.name] for p in MAIN_PARAMS if p.name in main}
    for g in GROUPS:
        if g.name in groups:
            flat[g.name] = {p.name: groups[g.name][p.name] for p in g.params if p.name in groups[g.name]}
    flat["layers"] = [{n: layer[n] for n in (*_LAYER_FIELDS, DISABLED_KEY) if n in layer} for layer in layers]
    return flat


def _filled(flat: dict[str, Any]) -> dict[str, Any]:
    """Missing non-obsolete keys, group members and layer base fields set to the schema defaults."""
    base = defaults()
    out = dict(flat)
    for key, value in base.items():
        if key not in out:
            out[key] = value
        elif key in ("noise", "crt") and isinstance(out[key], Mapping):
            out[key] = {**value, **out[key]}
    if isinstance(out.get("layers"), list | tuple):
        out["layers"] = [
            {**{p.name: p.flat_default() for p in LAYER_BASE_PARAMS}, **layer}
            if isinstance(layer, Mapping)
            else layer
            for layer in out["layers"]
        ]
    return _assemble_any(out)


def _assemble_any(flat: dict[str, Any]) -> dict[str, Any]:
    """Re-order a filled flat dict canonically, keeping keys `_assemble` does not know (`_wrappers`)."""
    order = [p.name for p in MAIN_PARAMS] + [g.name for g in GROUPS] + ["layers"]
    out = {k: flat[k] for k in order if k in flat}
    out.update({k: v for k, v in flat.items() if k not in out})
    return out
