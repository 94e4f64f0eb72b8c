"""Triangle rasteriser with the original's GPU semantics (renderer-spec §6.6, §6.8).

What WebGL does and this reproduces: 4× MSAA with the standard sample pattern, back-face culling, colour
evaluated per sample from the interpolated local position, additive blending into an 8-bit target with
rounding per fragment (saturating at 255), then a resolve that averages the 4 samples.

Why hand-written: no 2-D library offers per-sample coverage with per-fragment 8-bit additive rounding, and
drawing thousands of instances one call at a time from Python is the bottleneck (skia-python measured
30–100 µs per shaded instance here). One numba kernel draws a whole scene per call.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Standard 4× pattern in image coordinates (origin top-left, y down), from the pixel's top-left corner.
MSAA4 = np.array([(0.375, 0.875), (0.875, 0.625), (0.125, 0.375), (0.625, 0.125)], dtype=np.float64)
CENTRE = np.array([(0.5, 0.5)], dtype=np.float64)


@njit(cache=True, nogil=True)
def draw_instances(buf, offsets, verts, tris, d_local, mats, alphas, lut, lut_scale):
    """Draw every instance of one mesh: `mats` (n, 2, 4) map local (x, y, z, 1) to pixel (x, y)."""
    _, h, w, _ = buf.shape
    nv = verts.shape[0]
    px = np.empty(nv)
    py = np.empty(nv)
    xs = np.empty(3)
    ys = np.empty(3)
    for k in range(mats.shape[0]):
        m = mats[k]
        xmin = 1e30
        xmax = -1e30
        ymin = 1e30
        ymax = -1e30
        for v in range(nv):
            x = m[0, 0] * verts[v, 0] + m[0, 1] * verts[v, 1] + m[0, 2] * verts[v, 2] + m[0, 3]
            y = m[1, 0] * verts[v, 0] + m[1, 1] * verts[v, 1] + m[1, 2] * verts[v, 2] + m[1, 3]
            px[v] = x
            py[v] = y
            xmin = min(xmin, x)
            xmax = max(xmax, x)
            ymin = min(ymin, y)
            ymax = max(ymax, y)
        if xmax < -1.0 or ymax < -1.0 or xmin > w + 1.0 or ymin > h + 1.0:
            continue
        alpha255 = 255.0 * alphas[k]
        for t in range(tris.shape[0]):
            a = tris[t, 0]
            b = tris[t, 1]
            c = tris[t, 2]
            x0, y0, x1, y1, x2, y2 = px[a], py[a], px[b], py[b], px[c], py[c]
            cross = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
            if not cross < 0.0:  # back face, degenerate or NaN: culled
                continue
            if max(x0, x1, x2) < 0.0 or min(x0, x1, x2) > w or max(y0, y1, y2) < 0.0 or min(y0, y1, y2) > h:
                continue
            # d(x, y) = d0 + gx·(x − x0) + gy·(y − y0), interpolated across the triangle as the GPU does
            da, db, dc = d_local[a], d_local[b], d_local[c]
            gx = ((db - da) * (y2 - y0) - (dc - da) * (y1 - y0)) / cross
            gy = ((x1 - x0) * (dc - da) - (x2 - x0) * (db - da)) / cross
            xs[0], xs[1], xs[2] = x0, x1, x2
            ys[0], ys[1], ys[2] = y0, y1, y2
            _fill_convex(buf, offsets, xs, ys, 3, x0, y0, da, gx, gy, alpha255, lut, lut_scale)


@njit(cache=True, nogil=True)
def resolve_samples(buf):
    """Mean of the samples of each pixel, rounded to 8 bit (the MSAA resolve)."""
    n_s, h, w, ch = buf.shape
    out = np.empty((h, w, ch), dtype=np.uint8)
    half = n_s // 2
    for j in range(h):
        for i in range(w):
            for c in range(ch):
                acc = 0
                for s in range(n_s):
                    acc += buf[s, j, i, c]
                out[j, i, c] = (acc + half) // n_s
    return out


@njit(cache=True, nogil=True)
def _fill_convex(buf, offsets, xs, ys, n, tx, ty, d_t, gx, gy, alpha255, lut, lut_scale):
    """Add a convex polygon (n ≤ 4 vertices wound like a front triangle: negative area in y-down pixels).

    Each covered MSAA sample adds round(255·α·colour) per channel, saturating at 255, where the colour comes
    from the gradient LUT at |d| and d is affine over the polygon: d(x, y) = d_t + gx·(x − tx) + gy·(y − ty).
    """
    _, h, w, _ = buf.shape
    ymin = 1e30
    ymax = -1e30
    for v in range(n):
        ymin = min(ymin, ys[v])
        ymax = max(ymax, ys[v])
    if not (math.isfinite(ymin) and math.isfinite(ymax)):
        return
    # clamp before converting to int: huge coordinates (blown-up instances) must not overflow an index
    j0 = max(0, math.ceil(max(ymin, -2.0) - offsets[:, 1].max()))
    j1 = min(h - 1, math.floor(min(ymax, h + 2.0) - offsets[:, 1].min()))
    n_lut = lut.shape[0] - 1
    for j in range(j0, j1 + 1):
        for s in range(offsets.shape[0]):
            ox = offsets[s, 0]
            y = j + offsets[s, 1]
            if y < ymin or y > ymax:
                continue
            lo = -1e30
            hi = 1e30
            empty = False
            for e in range(n):
                ax = xs[e]
                ay = ys[e]
                bx = xs[(e + 1) % n]
                by = ys[(e + 1) % n]
                a_c = by - ay
                if a_c > 0.0:
                    lo = max(lo, ax + (bx - ax) * (y - ay) / a_c)
                elif a_c < 0.0:
                    hi = min(hi, ax + (bx - ax) * (y - ay) / a_c)
                else:
                    f = (ax - bx) * (y - ay)
                    if f < 0.0 or (f == 0.0 and ax < bx):
                        empty = True
            if empty or lo >= hi:
                continue
            if not (lo == lo and hi == hi):  # NaN from non-finite vertices
                continue
            i0 = max(0, math.ceil(max(lo, -2.0) - ox))
            i1 = min(w, math.ceil(min(hi, w + 2.0) - ox))
            d_row = d_t + gx * (ox - tx) + gy * (y - ty)
            row = buf[s, j]
            for i in range(i0, i1):
                px = row[i]
                if px[0] == 255 and px[1] == 255 and px[2] == 255:
                    continue
                k = int(abs(d_row + gx * i) * lut_scale + 0.5)
                if k > n_lut:
                    k = n_lut
                for c in range(3):
                    v = px[c] + int(alpha255 * lut[k, c] + 0.5)
                    px[c] = 255 if v > 255 else v


@njit(cache=True, nogil=True)
def _area2(xs, ys, n):
    a = 0.0
    for v in range(n):
        a += xs[v] * ys[(v + 1) % n] - xs[(v + 1) % n] * ys[v]
    return a


@njit(cache=True, nogil=True)
def _fill_oriented(buf, offsets, xs, ys, n, tx, ty, d_t, gx, gy, alpha255, lut, lut_scale):
    """Fill a polygon whatever its winding (reversing it when needed)."""
    if _area2(xs, ys, n) > 0.0:
        for v in range(n // 2):
            xs[v], xs[n - 1 - v] = xs[n - 1 - v], xs[v]
            ys[v], ys[n - 1 - v] = ys[n - 1 - v], ys[v]
    _fill_convex(buf, offsets, xs, ys, n, tx, ty, d_t, gx, gy, alpha255, lut, lut_scale)


@njit(cache=True, nogil=True)
def draw_bands(buf, offsets, left, right, direction, mats, alphas, lut, lut_scale):
    """Draw every instance of a planar band given its left and right edge polylines (local xy, (S, 2) each).

    Each segment's two camera-facing tube faces (four triangles about the centreline) are drawn as one quad
    when all four face the camera and the quad is convex: then the quad covers exactly what the triangles
    cover. Otherwise (the band folds on a tight curve) each triangle is culled or drawn on its own, as the GPU
    does. So this gives the tube's pixels with a quarter of the rasteriser set-up work.
    """
    _, h, w, _ = buf.shape
    n_st = left.shape[0]
    lx = np.empty(n_st)
    ly = np.empty(n_st)
    rx = np.empty(n_st)
    ry = np.empty(n_st)
    qx = np.empty(4)
    qy = np.empty(4)
    tris = np.empty((8, 6))
    for k in range(mats.shape[0]):
        m = mats[k]
        a00, a01, a10, a11 = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
        tx, ty = m[0, 3], m[1, 3]
        det = a00 * a11 - a01 * a10
        if det == 0.0 or not np.isfinite(det):
            continue
        # d = direction · A⁻¹ (x − t): its gradient is A⁻ᵀ direction
        gx = (a11 * direction[0] - a10 * direction[1]) / det
        gy = (-a01 * direction[0] + a00 * direction[1]) / det
        xmin = 1e30
        xmax = -1e30
        ymin = 1e30
        ymax = -1e30
        for v in range(n_st):
            lx[v] = a00 * left[v, 0] + a01 * left[v, 1] + tx
            ly[v] = a10 * left[v, 0] + a11 * left[v, 1] + ty
            rx[v] = a00 * right[v, 0] + a01 * right[v, 1] + tx
            ry[v] = a10 * right[v, 0] + a11 * right[v, 1] + ty
            xmin = min(xmin, lx[v], rx[v])
            xmax = max(xmax, lx[v], rx[v])
            ymin = min(ymin, ly[v], ry[v])
            ymax = max(ymax, ly[v], ry[v])
        if xmax < -1.0 or ymax < -1.0 or xmin > w + 1.0 or ymin > h + 1.0:
            continue
        alpha255 = 255.0 * alphas[k]
        for i in range(n_st - 1):
            qx[0], qy[0] = lx[i], ly[i]
            qx[1], qy[1] = lx[i + 1], ly[i + 1]
            qx[2], qy[2] = rx[i + 1], ry[i + 1]
            qx[3], qy[3] = rx[i], ry[i]
            if max(qx[0], qx[1], qx[2], qx[3]) < 0.0 or min(qx[0], qx[1], qx[2], qx[3]) > w:
                continue
            if max(qy[0], qy[1], qy[2], qy[3]) < 0.0 or min(qy[0], qy[1], qy[2], qy[3]) > h:
                continue
            # The tube's four faces about the centreline C, triangulated as three.js does: faces 0 and 3 face
            # the camera for a non-mirrored instance, faces 1 and 2 for a mirrored one; culling decides.
            cx0, cy0 = 0.5 * (lx[i] + rx[i]), 0.5 * (ly[i] + ry[i])
            cx1, cy1 = 0.5 * (lx[i + 1] + rx[i + 1]), 0.5 * (ly[i + 1] + ry[i + 1])
            tri = _band_triangles(
                tris,
                cx0,
                cy0,
                cx1,
                cy1,
                lx[i],
                ly[i],
                lx[i + 1],
                ly[i + 1],
                rx[i],
                ry[i],
                rx[i + 1],
                ry[i + 1],
            )
            front = np.empty(8, dtype=np.bool_)
            for t in range(8):
                front[t] = _front(tri[t, 0], tri[t, 1], tri[t, 2], tri[t, 3], tri[t, 4], tri[t, 5])
            plain = front[0] and front[1] and front[6] and front[7]
            mirrored = front[2] and front[3] and front[4] and front[5]
            if (plain or mirrored) and _convex4(qx, qy):
                _fill_oriented(buf, offsets, qx, qy, 4, tx, ty, 0.0, gx, gy, alpha255, lut, lut_scale)
                continue
            for t in range(8):  # a fold (tight curve, thick band): each triangle on its own
                if front[t]:
                    _tri(
                        buf,
                        offsets,
                        tri[t, 0],
                        tri[t, 1],
                        tri[t, 2],
                        tri[t, 3],
                        tri[t, 4],
                        tri[t, 5],
                        tx,
                        ty,
                        gx,
                        gy,
                        alpha255,
                        lut,
                        lut_scale,
                    )


@njit(cache=True, nogil=True)
def _band_triangles(out, cx0, cy0, cx1, cy1, lx0, ly0, lx1, ly1, rx0, ry0, rx1, ry1):
    """The 8 triangles of one tube segment projected flat (radial vertices C, L, C, R; three.js order)."""
    pts = (
        (cx0, cy0, cx1, cy1, lx0, ly0),
        (cx1, cy1, lx1, ly1, lx0, ly0),  # face 0: C → L
        (lx0, ly0, lx1, ly1, cx0, cy0),
        (lx1, ly1, cx1, cy1, cx0, cy0),  # face 1: L → C
        (cx0, cy0, cx1, cy1, rx0, ry0),
        (cx1, cy1, rx1, ry1, rx0, ry0),  # face 2: C → R
        (rx0, ry0, rx1, ry1, cx0, cy0),
        (rx1, ry1, cx1, cy1, cx0, cy0),
    )  # face 3: R → C
    for t in range(8):
        for v in range(6):
            out[t, v] = pts[t][v]
    return out


@njit(cache=True, nogil=True)
def _front(x0, y0, x1, y1, x2, y2):
    """A triangle faces the camera when it winds counter-clockwise on screen (negative area, y down)."""
    return (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0) < 0.0


@njit(cache=True, nogil=True)
def _convex4(qx, qy):
    sign = 0.0
    for v in range(4):
        c = (qx[(v + 1) % 4] - qx[v]) * (qy[(v + 2) % 4] - qy[(v + 1) % 4]) - (qy[(v + 1) % 4] - qy[v]) * (
            qx[(v + 2) % 4] - qx[(v + 1) % 4]
        )
        if c != 0.0:
            if sign == 0.0:
                sign = c
            elif (c > 0.0) != (sign > 0.0):
                return False
    return True


@njit(cache=True, nogil=True)
def _tri(buf, offsets, x0, y0, x1, y1, x2, y2, tx, ty, gx, gy, alpha255, lut, lut_scale):
    xs = np.array([x0, x1, x2])
    ys = np.array([y0, y1, y2])
    _fill_convex(buf, offsets, xs, ys, 3, tx, ty, 0.0, gx, gy, alpha255, lut, lut_scale)
