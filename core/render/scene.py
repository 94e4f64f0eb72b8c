"""Scene math of the original (renderer-spec §3–§4), vectorised over instances.

Input is a *resolved* flat parameter dict (`core.params.resolve`): every key present, numbers quantised and
clamped, the layer list already holding the implicit default layer when the request had none.
Output is one `LayerDraw` per layer: the mesh to draw and, per instance, the effective world matrix
(after drei's decompose/recompose, §4.3) and the alpha.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from core.render.color import layer_base_color

_FIBONACCI = np.array([0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89], dtype=np.float64)


@dataclass
class LayerDraw:
    geometry: str
    geo_width: float
    start_angle: float
    base_color: np.ndarray  # linear RGB before the gradient (3,)
    matrices: np.ndarray  # (n, 3, 4): effective world transform of each instance (rows x, y, z)
    alphas: np.ndarray  # (n,)
    gradient: bool = True  # debug mode draws plain white without the gradient


def scale_progression(kind: str, f: float, i: np.ndarray) -> np.ndarray:
    """σ_i; unknown kinds behave as exponential. 0⁰ = 1 as in JS Math.pow."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if kind == "linear":
            return np.maximum(0.01, 1.0 - 0.1 * i * (1.0 - f))
        if kind == "additive":
            return 1.0 + i * (f - 1.0)
        if kind == "fibonacci":
            return np.power(f, i * np.abs(np.sin(0.1618 * i)))
        if kind == "golden":
            return np.power(f, 0.382 * i)
        if kind == "sine":
            return np.power(f, i * (0.3 + 0.7 * np.abs(np.sin(0.2 * i))))
        return np.power(f, i)


ALPHA_FLOOR = 0.02
"""The least α an instance has, in every progression (spec §3; golden/006 verifies it). Read at each
call, so a study can draw with another floor (benchmarks.alpha_floor) without a copy of the formulas."""


def alpha_progression(kind: str, f: float, i: np.ndarray, n_value: float) -> np.ndarray:
    """α_i (unknown kinds behave as exponential); N is the repetitions value itself, not floored."""
    if kind == "linear":
        raw = 1.0 - i * (1.0 - f) / n_value
    elif kind == "inverse":
        raw = f + (1.0 - f) * i / n_value
    else:
        raw = np.exp(-0.3 * i * (1.0 - f))
    return np.maximum(ALPHA_FLOOR, raw)


def rotation_progression(kind: str, f: float, i: np.ndarray) -> np.ndarray:
    """φ_i in degrees (unknown kinds behave as linear)."""
    if kind == "golden-angle":
        return 137.5 * f * i
    if kind == "fibonacci":
        return 15.0 * f * _FIBONACCI[i.astype(np.int64) % 12]
    if kind == "sine":
        return 180.0 * f * np.sin(0.2 * i)
    return 360.0 * f * i


def instance_positions(p: dict[str, Any], step: float, sigma: np.ndarray, i: np.ndarray) -> np.ndarray:
    """(n, 2) instance offsets: raw step, origin anchor, then × stepFactor (anchor included)."""
    xs, ys = p["xStep"], p["yStep"]
    if p["positionProgression"] == "scale":
        d = np.abs(1.0 - sigma)
        u, v = 1.5 * d * xs, 1.5 * d * ys
    else:
        k = sigma if p["positionCoupled"] else np.ones_like(sigma)
        u, v = 1.5 * i * k * xs, 1.5 * i * k * ys
    origin = str(p["origin"]).lower()
    if "top" in origin:
        v = 1.0 - v
    elif "bottom" in origin:
        v = v - 1.0
    if "left" in origin:
        u = u - 1.0
    elif "right" in origin:
        u = 1.0 - u
    return step * np.stack([np.broadcast_to(u, i.shape), np.broadcast_to(v, i.shape)], axis=1)


def _rz(theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float64)


def _scale(x: float, y: float, z: float) -> np.ndarray:
    return np.diag([x, y, z, 1.0])


def _translate(x: float, y: float) -> np.ndarray:
    m = np.eye(4)
    m[0, 3], m[1, 3] = x, y
    return m


def parent_matrix(p: dict[str, Any], layer: dict[str, Any] | None) -> np.ndarray:
    """Main: Rz(θ)·S(s)·T(p). Layer: Rz(θ)·S(s)·T(l)·Rz(ρ)·S(a_x, a_y, 1) — not offset by Scene.position."""
    s = p["scale"]
    base = _rz(p["rotation"]) @ _scale(s, s, s)
    if layer is None:
        return base @ _translate(p["position"]["x"], p["position"]["y"])
    pos, sc = layer["position"], layer["scale"]
    return base @ _translate(pos["x"], pos["y"]) @ _rz(layer["rotation"]) @ _scale(sc["x"], sc["y"], 1.0)


def instance_matrices(sigma: np.ndarray, phi_deg: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """L_i = T(x_i, y_i, 0)·Rz(φ_i)·S(σ_i) as (n, 4, 4)."""
    n = len(sigma)
    phi = np.deg2rad(phi_deg)
    c, s = np.cos(phi), np.sin(phi)
    m = np.zeros((n, 4, 4))
    m[:, 0, 0], m[:, 0, 1] = c * sigma, -s * sigma
    m[:, 1, 0], m[:, 1, 1] = s * sigma, c * sigma
    m[:, 2, 2] = sigma
    m[:, 0, 3], m[:, 1, 3] = pos[:, 0], pos[:, 1]
    m[:, 3, 3] = 1.0
    return m


def world_matrices(
    parent: np.ndarray, sigma: np.ndarray, phi_deg: np.ndarray, pos: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """recompose(parent @ instance_matrices(σ, φ, pos)) in one pass: (n, 4, 4) and the valid mask."""
    world = np.empty((len(sigma), 4, 4))
    valid = np.ones(len(sigma), dtype=np.bool_)
    _compose(np.ascontiguousarray(parent, dtype=np.float64), sigma, np.deg2rad(phi_deg), pos, world)
    _recompose_inplace(world, valid)
    return world, valid


@njit(cache=True, nogil=True)
def _compose(
    parent: np.ndarray, sigma: np.ndarray, phi: np.ndarray, pos: np.ndarray, out: np.ndarray
) -> None:
    """out[k] = parent · T(x_k, y_k, 0) · Rz(φ_k) · S(σ_k), the same products as the numpy path."""
    for k in range(sigma.shape[0]):
        c, s, g = math.cos(phi[k]), math.sin(phi[k]), sigma[k]
        x, y = pos[k, 0], pos[k, 1]
        for r in range(4):
            p0, p1, p2, p3 = parent[r, 0], parent[r, 1], parent[r, 2], parent[r, 3]
            out[k, r, 0] = p0 * (c * g) + p1 * (s * g)
            out[k, r, 1] = p0 * (-s * g) + p1 * (c * g)
            out[k, r, 2] = p2 * g
            out[k, r, 3] = p0 * x + p1 * y + p3


def recompose(world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """three.js compose(decompose(W)) for (n, 4, 4) matrices; returns (matrices, valid mask).

    Drops shear exactly as drei's Instances do (spec §4.3), including the unnormalised quaternion.
    Degenerate inputs (a zero column) are reported invalid: the original draws nothing for them.
    """
    out = np.array(world, dtype=np.float64, copy=True)
    valid = np.ones(len(out), dtype=np.bool_)
    _recompose_inplace(out, valid)
    return out, valid


@njit(cache=True, nogil=True)
def _recompose_inplace(m: np.ndarray, valid: np.ndarray) -> None:
    """Matrix4.decompose then compose, one instance at a time (three.js's own scalar code path)."""
    for k in range(m.shape[0]):
        a = m[k]
        finite = True
        for i in range(4):
            for j in range(4):
                if not math.isfinite(a[i, j]):
                    finite = False
        sx = math.sqrt(a[0, 0] * a[0, 0] + a[1, 0] * a[1, 0] + a[2, 0] * a[2, 0])
        sy = math.sqrt(a[0, 1] * a[0, 1] + a[1, 1] * a[1, 1] + a[2, 1] * a[2, 1])
        sz = math.sqrt(a[0, 2] * a[0, 2] + a[1, 2] * a[1, 2] + a[2, 2] * a[2, 2])
        det = (
            a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1])
            - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
            + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0])
        )
        if not (finite and sx > 0.0 and sy > 0.0 and sz > 0.0 and math.isfinite(det)):
            valid[k] = False
            continue
        if det < 0.0:
            sx = -sx
        r11, r12, r13 = a[0, 0] / sx, a[0, 1] / sy, a[0, 2] / sz
        r21, r22, r23 = a[1, 0] / sx, a[1, 1] / sy, a[1, 2] / sz
        r31, r32, r33 = a[2, 0] / sx, a[2, 1] / sy, a[2, 2] / sz
        trace = r11 + r22 + r33
        if trace > 0.0:
            h = 0.5 / math.sqrt(trace + 1.0)
            w, x, y, z = 0.25 / h, (r32 - r23) * h, (r13 - r31) * h, (r21 - r12) * h
        elif r11 > r22 and r11 > r33:
            h = 2.0 * math.sqrt(1.0 + r11 - r22 - r33)
            w, x, y, z = (r32 - r23) / h, 0.25 * h, (r12 + r21) / h, (r13 + r31) / h
        elif r22 > r33:
            h = 2.0 * math.sqrt(1.0 + r22 - r11 - r33)
            w, x, y, z = (r13 - r31) / h, (r12 + r21) / h, 0.25 * h, (r23 + r32) / h
        else:
            h = 2.0 * math.sqrt(1.0 + r33 - r11 - r22)
            w, x, y, z = (r21 - r12) / h, (r13 + r31) / h, (r23 + r32) / h, 0.25 * h
        a[0, 0], a[0, 1], a[0, 2] = (
            (1 - 2 * (y * y + z * z)) * sx,
            2 * (x * y - w * z) * sy,
            2 * (x * z + w * y) * sz,
        )
        a[1, 0], a[1, 1], a[1, 2] = (
            2 * (x * y + w * z) * sx,
            (1 - 2 * (x * x + z * z)) * sy,
            2 * (y * z - w * x) * sz,
        )
        a[2, 0], a[2, 1], a[2, 2] = (
            2 * (x * z - w * y) * sx,
            2 * (y * z + w * x) * sy,
            (1 - 2 * (x * x + y * y)) * sz,
        )
        for i in range(3):
            for j in range(3):
                if not math.isfinite(a[i, j]):
                    valid[k] = False


def _layer_value(p: dict[str, Any], layer: dict[str, Any] | None, key: str) -> Any:
    if layer is not None and key in layer.get("overrides", {}):
        return layer["overrides"][key]
    return p[key]


def build_layer(p: dict[str, Any], layer: dict[str, Any] | None) -> LayerDraw | None:
    """Instances of the main layer (layer=None) or one layer; None when nothing would be drawn."""
    n = math.floor(p["repetitions"])
    if n <= 0:
        return None
    i = np.arange(n, dtype=np.float64)
    f_s = _layer_value(p, layer, "scaleFactor")
    f_a = _layer_value(p, layer, "alphaFactor")
    f_r = _layer_value(p, layer, "rotationFactor")
    step = _layer_value(p, layer, "stepFactor")
    sigma = scale_progression(p["scaleProgression"], f_s, i)
    alpha = alpha_progression(p["alphaProgression"], f_a, i, float(p["repetitions"]))
    phi = rotation_progression(p["rotationProgression"], f_r, i)
    pos = instance_positions(p, step, sigma, i)
    world, valid = world_matrices(parent_matrix(p, layer), sigma, phi, pos)
    color = layer_base_color(p["color"], None if layer is None else _layer_value(p, layer, "color"))
    return LayerDraw(
        geometry=_layer_value(p, layer, "geometry"),
        geo_width=float(_layer_value(p, layer, "geoWidth")),
        start_angle=float(_layer_value(p, layer, "startAngle")),
        base_color=color,
        matrices=world[valid, :3, :],
        alphas=alpha[valid],
    )


def build_scene(p: dict[str, Any]) -> list[LayerDraw]:
    """All draws of a resolved parameter set: the main layer, then each layer (order does not matter)."""
    if p.get("debug"):
        world = parent_matrix(p, None)[None]
        return [
            LayerDraw(
                p["geometry"],
                float(p["geoWidth"]),
                float(p["startAngle"]),
                np.ones(3),
                world[:, :3, :],
                np.ones(1),
                gradient=False,
            )
        ]
    draws = [build_layer(p, None)] + [build_layer(p, layer) for layer in p["layers"]]
    return [d for d in draws if d is not None and len(d.alphas)]
