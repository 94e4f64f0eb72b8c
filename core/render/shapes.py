"""The ten geometries as tube meshes (renderer-spec §5).

The original sweeps each centreline into a three.js TubeGeometry with 4 radial segments. Seen from the
orthographic camera, its front faces form a flat band of half-width r about the centreline; we build the
same 4-face mesh (not an idealised band) so that culling, folds on tight curves, the square's corner bevels
and the doubled coverage where a shape crosses itself all come out as the original draws them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

# Dense samples of each analytic centreline; stations are then placed uniformly in arc length.
_DENSE = 8192


@dataclass(frozen=True)
class Shape:
    name: str
    closed: bool
    segments: int


SHAPES: dict[str, Shape] = {
    "ring": Shape("ring", True, 128),
    "bar": Shape("bar", False, 16),
    "line": Shape("line", False, 16),
    "arch": Shape("arch", False, 64),
    "u": Shape("u", False, 96),
    "spiral": Shape("spiral", False, 128),
    "wave": Shape("wave", False, 96),
    "infinity": Shape("infinity", True, 128),
    "square": Shape("square", False, 64),
    "roundedRect": Shape("roundedRect", False, 96),
}


def _polyline(points: list[tuple[float, float]], per_edge: int) -> np.ndarray:
    """Straight edges through `points`, densely sampled (corners kept exactly)."""
    out = []
    for a, b in itertools.pairwise(points):
        t = np.linspace(0.0, 1.0, per_edge, endpoint=False)[:, None]
        out.append(np.asarray(a) * (1 - t) + np.asarray(b) * t)
    out.append(np.asarray([points[-1]], dtype=float))
    return np.concatenate(out)


def _arc(cx: float, cy: float, radius: float, a0: float, a1: float, n: int) -> np.ndarray:
    t = np.linspace(a0, a1, n)
    return np.stack([cx + radius * np.cos(t), cy + radius * np.sin(t)], axis=1)


def _dense_curve(name: str) -> np.ndarray:
    """(M, 3) points along the centreline, start to end, in local units before startAngle."""
    n = _DENSE
    if name == "ring":
        t = np.linspace(0.0, 2 * np.pi, n)
        xy = 0.9 * np.stack([np.cos(t), np.sin(t)], axis=1)
    elif name == "bar":
        xy = np.stack([np.zeros(n), np.linspace(-0.9, 0.9, n)], axis=1)
    elif name == "line":
        xy = np.stack([np.zeros(n), np.linspace(-0.6, 0.6, n)], axis=1)
    elif name == "arch":
        xy = _arc(0.0, 0.0, 0.8, 0.0, np.pi, n)
    elif name == "u":
        leg = np.linspace(0.9, -0.4, n // 4)
        left = np.stack([np.full_like(leg, -0.4), leg], axis=1)
        bottom = _arc(0.0, -0.4, 0.4, np.pi, 2 * np.pi, n // 2)
        right = np.stack([np.full_like(leg, 0.4), leg[::-1]], axis=1)
        xy = np.concatenate([left, bottom[1:], right[1:]])
    elif name == "spiral":
        t = np.linspace(0.0, 1.0, n)
        r = 0.2 + 0.6 * t
        a = 6 * np.pi * t
        return np.stack([r * np.cos(a), r * np.sin(a), 0.5 * t - 0.25], axis=1)
    elif name == "wave":
        t = np.linspace(-1.0, 1.0, n)
        xy = np.stack([0.9 * t, 0.3 * np.sin(2 * np.pi * t)], axis=1)
    elif name == "infinity":
        t = np.linspace(0.0, 2 * np.pi, n)
        xy = np.stack([0.6 * np.sin(t), 0.6 * np.sin(t) * np.cos(t)], axis=1)
    elif name == "square":
        c = 0.7
        xy = _polyline([(-c, -c), (c, -c), (c, c), (-c, c), (-c, -c)], n // 4)
    elif name == "roundedRect":
        h, r, k = 0.65, 0.35, 0.3
        corners = [(-k, -k, np.pi), (k, -k, 1.5 * np.pi), (k, k, 0.0), (-k, k, 0.5 * np.pi)]
        arcs = np.concatenate([_arc(cx, cy, r, a0, a0 + 0.5 * np.pi, 25) for cx, cy, a0 in corners])
        xy = _densify(np.concatenate([arcs, [[-h, -k]]]), n)  # straight edges between arcs, back to start
    else:  # unknown names fall back to ring (spec §5.2)
        return _dense_curve("ring")
    return np.concatenate([xy, np.zeros((len(xy), 1))], axis=1)


def _densify(xy: np.ndarray, n: int) -> np.ndarray:
    """Resample a polyline to about n points, keeping its vertices."""
    seg = np.linalg.norm(np.diff(xy, axis=0), axis=1)
    total = seg.sum()
    out = [xy[:1]]
    for a, b, length in zip(xy[:-1], xy[1:], seg, strict=True):
        k = max(1, int(np.ceil(n * length / total)))
        t = np.linspace(0, 1, k + 1)[1:, None]
        out.append(a * (1 - t) + b * t)
    return np.concatenate(out)


@cache
def stations(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Arc-length-uniform stations (seg+1, 3) and unit tangents (seg+1, 3), as TubeGeometry samples them.

    Tangents are finite differences about each station, as three.js `getTangentAt` computes them: at the
    square's corners this gives the diagonal bisector, which is what bevels its corners.
    """
    shape = SHAPES.get(name, SHAPES["ring"])
    dense = _dense_curve(shape.name)
    seglen = np.linalg.norm(np.diff(dense, axis=0), axis=1)
    keep = np.concatenate([[True], seglen > 0])
    dense = dense[keep]
    arclen = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
    total = arclen[-1]
    u = np.linspace(0.0, 1.0, shape.segments + 1) * total

    def at(s: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(s, arclen, dense[:, k]) for k in range(3)], axis=1)

    points = at(u)
    delta = 1e-4 * total
    lo = np.clip(u - delta, 0.0, total)
    hi = np.clip(u + delta, 0.0, total)
    tangents = at(hi) - at(lo)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    if shape.closed:
        points[-1] = points[0]
        tangents[-1] = tangents[0]
    return points, tangents


def _rotate_about(v: tuple[float, float, float], k: tuple[float, float, float], theta: float) -> tuple:
    """Rodrigues rotation of v about the unit axis k (three.js Matrix4.makeRotationAxis)."""
    c, s = math.cos(theta), math.sin(theta)
    kv = k[0] * v[0] + k[1] * v[1] + k[2] * v[2]
    cross = (k[1] * v[2] - k[2] * v[1], k[2] * v[0] - k[0] * v[2], k[0] * v[1] - k[1] * v[0])
    return tuple(v[m] * c + cross[m] * s + k[m] * kv * (1 - c) for m in range(3))


def _cross(a: tuple, b: tuple) -> tuple[float, float, float]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def frenet_frames(tangents: np.ndarray, closed: bool) -> tuple[np.ndarray, np.ndarray]:
    """three.js Curve.computeFrenetFrames: an initial normal from the smallest tangent component, then
    parallel transport. It matters for the spiral, whose frame twists about the tangent and so narrows the
    projected band; for planar curves it gives N = −z and B = T × N, which is taken as a shortcut."""
    if np.all(tangents[:, 2] == 0.0):
        normals = np.tile([0.0, 0.0, -1.0], (len(tangents), 1))
        return normals, np.cross(tangents, normals)
    t = [tuple(map(float, row)) for row in tangents]
    smallest = np.abs(tangents[0])
    axis = tuple(np.eye(3)[max(k for k in range(3) if smallest[k] <= smallest.min())])  # last tie wins
    vec = np.cross(t[0], axis)
    vec /= np.linalg.norm(vec)
    normals = [tuple(np.cross(t[0], vec))]
    for i in range(1, len(t)):
        n = normals[-1]
        vec = _cross(t[i - 1], t[i])
        length = math.sqrt(vec[0] ** 2 + vec[1] ** 2 + vec[2] ** 2)
        if length > np.finfo(float).eps:
            dot = t[i - 1][0] * t[i][0] + t[i - 1][1] * t[i][1] + t[i - 1][2] * t[i][2]
            n = _rotate_about(
                n, (vec[0] / length, vec[1] / length, vec[2] / length), math.acos(min(1.0, max(-1.0, dot)))
            )
        normals.append(n)
    if closed:
        first, last = np.array(normals[0]), np.array(normals[-1])
        theta = math.acos(min(1.0, max(-1.0, float(first @ last)))) / (len(t) - 1)
        if np.dot(t[0], np.cross(first, last)) > 0:
            theta = -theta
        normals = [normals[0]] + [_rotate_about(normals[i], t[i], theta * i) for i in range(1, len(t))]
    normals_arr = np.array(normals)
    return normals_arr, np.cross(tangents, normals_arr)


@lru_cache(maxsize=1024)
def rotated_frames(name: str, start_angle: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stations and three.js frames after startAngle (frames are not rotation-equivariant for the spiral:
    the initial normal depends on the rotated tangent's components)."""
    points, tangents = stations(name)
    c, s = np.cos(start_angle), np.sin(start_angle)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    tangents = tangents @ rot.T
    normals, binormals = frenet_frames(tangents, SHAPES.get(name, SHAPES["ring"]).closed)
    return points @ rot.T, normals, binormals


LOD_STEPS = (1, 2, 4, 8, 16)


@lru_cache(maxsize=512)
def tube_mesh(name: str, radius: float, start_angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (V, 3) and triangles (T, 3) of the 4-radial-segment tube, in local units.

    Radial vertex j sits at c + r·normalize(−cos(v_j)·N + sin(v_j)·B), v_j = jπ/2, with three.js's frames
    (for planar curves N = −z and B = T×N, the in-plane left normal). Triangles keep three.js's index order,
    so their winding tells front from back faces after projection.
    """
    points, normals, binormals = rotated_frames(name, start_angle)
    v = np.arange(4) * (np.pi / 2)
    offsets = -np.cos(v)[:, None, None] * normals[None] + np.sin(v)[:, None, None] * binormals[None]
    offsets /= np.linalg.norm(offsets, axis=2, keepdims=True)
    verts = points[None] + radius * offsets  # (4, S, 3): radial j, station i
    verts = verts.transpose(1, 0, 2).reshape(-1, 3)  # index i*4 + j
    n_st = len(points)
    i = np.arange(1, n_st)[:, None]
    j = np.arange(1, 5)[None, :]
    a = (i - 1) * 4 + (j - 1)
    b = i * 4 + (j - 1)
    cc = i * 4 + (j % 4)
    d = (i - 1) * 4 + (j % 4)
    tris = np.stack([np.stack([a, b, d], -1), np.stack([b, cc, d], -1)], axis=2).reshape(-1, 3)
    return np.ascontiguousarray(verts), np.ascontiguousarray(tris.astype(np.int32))


@cache
def lod_error(name: str, step: int) -> float:
    """Largest distance (local units) between the full-detail centreline and its chords at this LOD step."""
    points = stations(name)[0][:, :2]
    worst = 0.0
    for k in range(0, len(points) - 1, step):
        a, b = points[k], points[min(k + step, len(points) - 1)]
        between = points[k : k + step + 1]
        ab = b - a
        length = np.linalg.norm(ab)
        if length == 0:
            dist = np.linalg.norm(between - a, axis=1)
        else:
            dist = np.abs(ab[0] * (between[:, 1] - a[1]) - ab[1] * (between[:, 0] - a[0])) / length
        worst = max(worst, float(dist.max()))
    return worst


@cache
def valid_steps(name: str) -> tuple[int, ...]:
    """LOD steps that divide the segment count, so corners (square) and ends stay stations."""
    segments = SHAPES.get(name, SHAPES["ring"]).segments
    return tuple(k for k in LOD_STEPS if segments % k == 0)


@lru_cache(maxsize=512)
def band_edges(name: str, radius: float, start_angle: float, step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Left and right band edges (S, 2) of a planar shape at an LOD step: c ± r·B, the outline of the two
    camera-facing tube faces (for the spiral, whose frame twists, use the full tube instead)."""
    points, _, binormals = rotated_frames(name, start_angle)
    points, binormals = points[::step, :2], binormals[::step, :2]
    left = np.ascontiguousarray(points + radius * binormals)
    right = np.ascontiguousarray(points - radius * binormals)
    for edge in (left, right):
        edge.setflags(write=False)
    return left, right
