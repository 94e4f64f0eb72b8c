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


def alpha_progression(kind: str, f: float, i: np.ndarray, n_value: float) -> np.ndarray:
    """α_i (unknown kinds behave as exponential); N is the repetitions value itself, not floored."""
    if kind == "linear":
        return np.maximum(0.02, 1.0 - i * (1.0 - f) / n_value)
    if kind == "inverse":
        return np.maximum(0.02, f + (1.0 - f) * i / n_value)
    return np.maximum(0.02, np.exp(-0.3 * i * (1.0 - f)))


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


def recompose(world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """three.js compose(decompose(W)) for (n, 4, 4) matrices; returns (matrices, valid mask).

    Drops shear exactly as drei's Instances do (spec §4.3), including the unnormalised quaternion.
    Degenerate inputs (a zero column) are reported invalid: the original draws nothing for them.
    """
    lin = world[:, :3, :3]
    with np.errstate(all="ignore"):  # degenerate and overflowing matrices are expected; `valid` flags them
        cols = np.linalg.norm(lin, axis=1)  # (n, 3): |c0|, |c1|, |c2|
        det = np.linalg.det(lin)
    valid = np.all(cols > 0, axis=1) & np.all(np.isfinite(world), axis=(1, 2)) & np.isfinite(det)
    sx = np.where(det < 0, -cols[:, 0], cols[:, 0])
    scales = np.stack([sx, cols[:, 1], cols[:, 2]], axis=1)
    safe = np.where(valid[:, None], scales, 1.0)
    r = lin / safe[:, None, :]
    r11, r12, r13 = r[:, 0, 0], r[:, 0, 1], r[:, 0, 2]
    r21, r22, r23 = r[:, 1, 0], r[:, 1, 1], r[:, 1, 2]
    r31, r32, r33 = r[:, 2, 0], r[:, 2, 1], r[:, 2, 2]
    trace = r11 + r22 + r33
    qx, qy, qz, qw = (np.zeros(len(r)) for _ in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        b0 = trace > 0
        b1 = ~b0 & (r11 > r22) & (r11 > r33)
        b2 = ~b0 & ~b1 & (r22 > r33)
        b3 = ~b0 & ~b1 & ~b2
        h = 0.5 / np.sqrt(trace + 1.0)
        qw = np.where(b0, 0.25 / h, qw)
        qx = np.where(b0, (r32 - r23) * h, qx)
        qy = np.where(b0, (r13 - r31) * h, qy)
        qz = np.where(b0, (r21 - r12) * h, qz)
        h = 2.0 * np.sqrt(1.0 + r11 - r22 - r33)
        qw = np.where(b1, (r32 - r23) / h, qw)
        qx = np.where(b1, 0.25 * h, qx)
        qy = np.where(b1, (r12 + r21) / h, qy)
        qz = np.where(b1, (r13 + r31) / h, qz)
        h = 2.0 * np.sqrt(1.0 + r22 - r11 - r33)
        qw = np.where(b2, (r13 - r31) / h, qw)
        qx = np.where(b2, (r12 + r21) / h, qx)
        qy = np.where(b2, 0.25 * h, qy)
        qz = np.where(b2, (r23 + r32) / h, qz)
        h = 2.0 * np.sqrt(1.0 + r33 - r11 - r22)
        qw = np.where(b3, (r21 - r12) / h, qw)
        qx = np.where(b3, (r13 + r31) / h, qx)
        qy = np.where(b3, (r23 + r32) / h, qy)
        qz = np.where(b3, 0.25 * h, qz)
    x, y, z, w = qx, qy, qz, qw
    q = np.empty((len(r), 3, 3))
    q[:, 0, 0], q[:, 0, 1], q[:, 0, 2] = 1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)
    q[:, 1, 0], q[:, 1, 1], q[:, 1, 2] = 2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)
    q[:, 2, 0], q[:, 2, 1], q[:, 2, 2] = 2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)
    out = world.copy()
    out[:, :3, :3] = q * safe[:, None, :]
    valid &= np.all(np.isfinite(out), axis=(1, 2))
    return out, valid


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
    world = parent_matrix(p, layer)[None] @ instance_matrices(sigma, phi, pos)
    world, valid = recompose(world)
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
