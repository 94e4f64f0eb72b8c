"""The search space: which flat params an optimiser moves, and vector ↔ params both ways.

Continuous coordinates live in [0, 1] (each param normalised by its UI bounds), so one step size fits
every dimension. Optimisers sample outside [0, 1] freely; `decode` folds such values back: angles wrap
(−π and π are the same angle, so wrapping keeps the landscape periodic instead of walling it off), every
other coordinate is reflected at its bounds (a clip would make flat plateaus CMA-ES cannot read).
Categoricals are option indices. Every decoded vector is valid flat SceneParams with the blowout guard
applied, so a candidate never floods the frame or stalls the rasteriser.

The structure comes from a template (the start params): the layer count (the implicit mirror layer of a
layer-less scene is made explicit, so its transform can move), which overrides each layer has, and the
settings of the effects (noise, crt), which stay as given (with effects=True, whether each is on is a
categorical: refinement uses that; exploration keeps the seed's effects).
What moves per layer: position, rotation, |scale| per axis with its sign as a categorical (a mirror flip
is one categorical step, not a trek across zero), visibility, and the values of the overrides it has.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.params import default_layer, defaults, validate
from core.params.blowout import guard_scene
from core.params.schema import LAYER_PARAMS, MAIN_BY_NAME, Kind

Path = tuple[Any, ...]

# Main numbers an optimiser moves (in schema order); angles in radians are periodic.
MAIN_NUMBERS: tuple[str, ...] = (
    "geoWidth",
    "startAngle",
    "gradientAngle",
    "repetitions",
    "alphaFactor",
    "scaleFactor",
    "rotationFactor",
    "stepFactor",
    "xStep",
    "yStep",
    "rotation",
    "scale",
)
ANGLES: frozenset[str] = frozenset({"startAngle", "gradientAngle", "rotation"})
MAIN_CHOICES: tuple[str, ...] = (
    "geometry",
    "scaleProgression",
    "rotationProgression",
    "alphaProgression",
    "positionProgression",
    "origin",
    "positionCoupled",
)
EFFECT_GROUPS: tuple[str, ...] = ("noise", "crt")
_VEC_BOUNDS = (-2.0, 2.0)
_RANGE_BOUNDS = (-1.0, 2.0)


@dataclass(frozen=True)
class Dim:
    """One continuous coordinate: the value at `path` spans [lo, hi] as the coordinate spans [0, 1]."""

    path: Path
    lo: float
    hi: float
    periodic: bool = False
    integer: bool = False

    def value(self, u: float) -> float:
        """The param value of coordinate `u` (any real: wrapped or reflected into [0, 1] first)."""
        u = u % 1.0 if self.periodic else _reflect(u)
        v = self.lo + u * (self.hi - self.lo)
        return float(round(v)) if self.integer else v

    def coordinate(self, value: float) -> float:
        u = (float(value) - self.lo) / (self.hi - self.lo)
        return u % 1.0 if self.periodic else min(1.0, max(0.0, u))


@dataclass(frozen=True)
class Choice:
    """One categorical: the value at `path` is one of `options`."""

    path: Path
    options: tuple[Any, ...]


def _reflect(u: float) -> float:
    """Fold any real into [0, 1] as a triangle wave: continuous, so no plateau beyond the bounds."""
    u = u % 2.0
    return 2.0 - u if u > 1.0 else u


def _hex_channels(color: str) -> tuple[float, float, float]:
    h = color.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{min(255, max(0, round(c * 255))):02x}" for c in rgb)


def complete(params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` validated, every key filled from the defaults, the implicit default layer made explicit."""
    flat = {**defaults(), **validate(params)}
    for group in ("noise", "crt"):
        flat[group] = {**defaults()[group], **flat.get(group, {})}
    if not flat.get("layers"):
        flat["layers"] = [default_layer()]
    flat["layers"] = [{k: v for k, v in layer.items() if k != "disabled"} for layer in flat["layers"]]
    return flat


class ParamSpace:
    """A template's search space: `encode` params to (x, c), `decode` any (x, c) to valid params.

    x: float array of `n_continuous` coordinates (≈ [0, 1]); c: int array of `n_categorical` option
    indices. The template fixes everything not listed in `dims` and `choices`.
    """

    def __init__(
        self, template: Mapping[str, Any], *, colour: bool = True, layers: bool = True, effects: bool = False
    ) -> None:
        self.template = complete(template)
        dims: list[Dim] = []
        choices: list[Choice] = []
        for name in MAIN_NUMBERS:
            lo, hi = MAIN_BY_NAME[name].bounds  # type: ignore[misc]
            dims.append(Dim((name,), lo, hi, periodic=name in ANGLES, integer=MAIN_BY_NAME[name].integer))
        dims += [Dim(("position", axis), *_VEC_BOUNDS) for axis in ("x", "y")]
        dims += [Dim(("gradientRange", i), *_RANGE_BOUNDS) for i in (0, 1)]
        if colour:
            dims += [Dim(("color", i), 0.0, 1.0) for i in range(3)]
        for name in MAIN_CHOICES:
            param = MAIN_BY_NAME[name]
            choices.append(Choice((name,), (True, False) if param.kind is Kind.BOOL else param.options))
        if effects:  # on/off per effect (settings stay the template's): refinement's starts come from
            # different scenes but share one template, and a start whose look needs no CRT must say so
            choices += [Choice((group, "enabled"), (True, False)) for group in EFFECT_GROUPS]
        if layers:
            for i, layer in enumerate(self.template["layers"]):
                self._layer_dims(i, layer, dims, choices, colour)
        self.dims: tuple[Dim, ...] = tuple(dims)
        self.choices: tuple[Choice, ...] = tuple(choices)

    @staticmethod
    def _layer_dims(
        i: int, layer: Mapping[str, Any], dims: list[Dim], choices: list[Choice], colour: bool
    ) -> None:
        dims += [Dim(("layers", i, "position", axis), *_VEC_BOUNDS) for axis in ("x", "y")]
        dims.append(Dim(("layers", i, "rotation"), -math.pi, math.pi, periodic=True))
        for axis in ("x", "y"):
            dims.append(Dim(("layers", i, "scale", axis), 0.0, _VEC_BOUNDS[1]))
            choices.append(Choice(("layers", i, "scale", axis, "sign"), (-1.0, 1.0)))
        choices.append(Choice(("layers", i, "visible"), (True, False)))
        for name, value in layer.items():
            param = LAYER_PARAMS.get(name)
            if param is None or name in ("position", "rotation", "scale"):
                continue
            if param.kind is Kind.NUMBER:
                lo, hi = param.bounds  # type: ignore[misc]
                dims.append(Dim(("layers", i, name), lo, hi, periodic=name in ANGLES))
            elif param.kind is Kind.ENUM:
                choices.append(Choice(("layers", i, name), param.options))  # type: ignore[arg-type]
            elif param.kind is Kind.COLOR and colour and isinstance(value, str):
                dims += [Dim(("layers", i, name, k), 0.0, 1.0) for k in range(3)]

    @property
    def n_continuous(self) -> int:
        return len(self.dims)

    @property
    def n_categorical(self) -> int:
        return len(self.choices)

    @property
    def cat_num(self) -> np.ndarray:
        """Options per categorical (what CatCMA calls `cat_num`)."""
        return np.array([len(ch.options) for ch in self.choices], dtype=int)

    def encode(self, params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(x, c) of `params` within this space (params need the template's layer count or fewer)."""
        flat = complete(params)
        if len(flat["layers"]) < len(self.template["layers"]):
            flat["layers"] += _copy_tree(self.template["layers"][len(flat["layers"]) :])
        x = np.array([d.coordinate(self._read_number(flat, d.path)) for d in self.dims])
        c = np.array([ch.options.index(self._read_choice(flat, ch)) for ch in self.choices], dtype=int)
        return x, c

    def decode(self, x: Sequence[float], c: Sequence[int]) -> dict[str, Any]:
        """Valid, complete flat params for any x (any reals) and option indices c.

        Valid by construction: the template is validated once (`complete`), every number written is inside
        its bounds and rounded, every option one of its param's. So `validate` is not run again here: it
        was a no-op on every decode tested (tests/test_refine_space.py) and cost a third of decode's time,
        which the search's parent process spends serially for every candidate."""
        flat = _copy_tree(self.template)
        colours: dict[Path, list[float]] = {}
        for d, u in zip(self.dims, x, strict=True):
            v = d.value(float(u))
            if _is_colour(d.path):
                colours.setdefault(d.path[:-1], [0.0, 0.0, 0.0])[d.path[-1]] = v
            else:
                # rounding may step past a bound (π → 3.142): back inside, as validate would clamp it
                _write(flat, d.path, int(v) if d.integer else min(d.hi, max(d.lo, _round(v, d.path))))
        for path, rgb in colours.items():
            _write(flat, path, _hex(rgb))
        hidden = []
        for ch, k in zip(self.choices, c, strict=True):
            value = ch.options[int(k)]
            if ch.path[-1] == "sign":
                scale = flat["layers"][ch.path[1]]["scale"]
                scale[ch.path[3]] = abs(scale[ch.path[3]]) * value + 0.0
            elif ch.path[-1] == "visible":
                if not value:
                    hidden.append(ch.path[1])
            else:
                _write(flat, ch.path, value)
        for i in hidden:
            flat["layers"][i]["scale"] = {"x": 0.0, "y": 0.0}  # drawn degenerate: no light
        return guard_scene(flat)

    @staticmethod
    def _read_number(flat: Mapping[str, Any], path: Path) -> float:
        if _is_colour(path):
            return _hex_channels(_read(flat, path[:-1]))[path[-1]]
        value = _read(flat, path)
        if path[0] == "layers" and path[2] == "scale":
            return abs(value)
        return float(value)

    @staticmethod
    def _read_choice(flat: Mapping[str, Any], choice: Choice) -> Any:
        path = choice.path
        if path[-1] == "sign":
            return -1.0 if _read(flat, path[:-1]) < 0 else 1.0
        if path[-1] == "visible":
            scale = _read(flat, (*path[:-1], "scale"))
            return bool(scale["x"] or scale["y"])
        return _read(flat, path)

    def describe(self) -> dict[str, Any]:
        """What moves, for logs and reports."""
        return {
            "continuous": ["/".join(map(str, d.path)) for d in self.dims],
            "categorical": {"/".join(map(str, ch.path)): list(ch.options) for ch in self.choices},
        }


def _copy_tree(node: Any) -> Any:
    """A copy of nested dicts and lists of immutable values (params): deepcopy's result in a third of the
    time, without its memo."""
    if isinstance(node, dict):
        return {key: _copy_tree(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_copy_tree(value) for value in node]
    return node


def _is_colour(path: Path) -> bool:
    return len(path) >= 2 and path[-2] == "color" and isinstance(path[-1], int)


def _read(flat: Mapping[str, Any], path: Path) -> Any:
    """The value at `path`; an override a layer lacks reads as the main value it falls back to."""
    node: Any = flat
    for depth, key in enumerate(path):
        if depth == 2 and path[0] == "layers" and key not in node and key in LAYER_PARAMS:
            node = flat[key]
        else:
            node = node[key]
    return node


def _write(flat: dict[str, Any], path: Path, value: Any) -> None:
    node: Any = flat
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _round(value: float, path: Path) -> float:
    """3 decimals for scalars (the codec's quantum: rounding here changes no pixel), 4 for the members of
    vectors and intervals, which travel as JSON unquantised (the sampler's own precision)."""
    vector_member = path[-1] in ("x", "y") or path[0] == "gradientRange"
    return round(value, 4 if vector_member else 3) + 0.0
