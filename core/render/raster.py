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
    slopes = np.empty(4)
    lut_max = lut.max()
    for k in range(mats.shape[0]):
        if 255.0 * alphas[k] * lut_max < 0.5:  # every fragment would add round(…) = 0: nothing to draw
            continue
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
            _fill_convex(buf, offsets, xs, ys, 3, x0, y0, da, gx, gy, alpha255, lut, lut_scale, slopes)


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
def _fill_convex(buf, offsets, xs, ys, n, tx, ty, d_t, gx, gy, alpha255, lut, lut_scale, slopes):
    """Add a convex polygon (n ≤ 4 vertices wound like a front triangle: negative area in y-down pixels).

    Each covered MSAA sample adds round(255·α·colour) per channel, saturating at 255, where the colour comes
    from the gradient LUT at |d| and d is affine over the polygon: d(x, y) = d_t + gx·(x − tx) + gy·(y − ty).
    `slopes` is scratch space (≥ n) so that the hot path allocates nothing.
    """
    _, h, w, _ = buf.shape
    ymin = 1e30
    ymax = -1e30
    for v in range(n):
        ymin = min(ymin, ys[v])
        ymax = max(ymax, ys[v])
    if not (math.isfinite(ymin) and math.isfinite(ymax)):
        return
    n_s = offsets.shape[0]
    oy_min = 1e30
    oy_max = -1e30
    for s in range(n_s):
        oy_min = min(oy_min, offsets[s, 1])
        oy_max = max(oy_max, offsets[s, 1])
    # clamp before converting to int: huge coordinates (blown-up instances) must not overflow an index
    j0 = max(0, math.ceil(max(ymin, -2.0) - oy_max))
    j1 = min(h - 1, math.floor(min(ymax, h + 2.0) - oy_min))
    if j0 > j1:
        return
    for e in range(n):
        a_c = ys[(e + 1) % n] - ys[e]
        slopes[e] = (xs[(e + 1) % n] - xs[e]) / a_c if a_c != 0.0 else 0.0
    n_lut = lut.shape[0] - 1
    for j in range(j0, j1 + 1):
        for s in range(n_s):
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
                a_c = ys[(e + 1) % n] - ay
                if a_c > 0.0:
                    lo = max(lo, ax + slopes[e] * (y - ay))
                elif a_c < 0.0:
                    hi = min(hi, ax + slopes[e] * (y - ay))
                else:
                    f = (ax - xs[(e + 1) % n]) * (y - ay)
                    if f < 0.0 or (f == 0.0 and ax < xs[(e + 1) % n]):
                        empty = True
            if empty or not lo < hi:  # also rejects NaN from non-finite vertices
                continue
            i0 = max(0, math.ceil(max(lo, -2.0) - ox))
            i1 = min(w, math.ceil(min(hi, w + 2.0) - ox))
            d_row = (d_t + gx * (ox - tx) + gy * (y - ty)) * lut_scale
            g_step = gx * lut_scale
            row = buf[s, j]
            for i in range(i0, i1):
                r, g, b = row[i, 0], row[i, 1], row[i, 2]
                if r == 255 and g == 255 and b == 255:
                    continue
                k = int(abs(d_row + g_step * i) + 0.5)
                if k > n_lut:
                    k = n_lut
                r += int(alpha255 * lut[k, 0] + 0.5)
                g += int(alpha255 * lut[k, 1] + 0.5)
                b += int(alpha255 * lut[k, 2] + 0.5)
                row[i, 0] = 255 if r > 255 else r
                row[i, 1] = 255 if g > 255 else g
                row[i, 2] = 255 if b > 255 else b


@njit(cache=True, nogil=True)
def _area2(xs, ys, n):
    a = 0.0
    for v in range(n):
        a += xs[v] * ys[(v + 1) % n] - xs[(v + 1) % n] * ys[v]
    return a


@njit(cache=True, nogil=True)
def draw_bands(buf, offsets, left, right, direction, mats, alphas, lut, lut_scale):
    """Draw every instance of a planar band given its left and right edge polylines (local xy, (S, 2) each).

    Each segment's two camera-facing tube faces (four triangles about the centreline) are drawn as one quad
    when all four face the camera and the quad is convex: then the quad covers exactly what the triangles
    cover. Otherwise (the band folds on a tight curve) each triangle is culled or drawn on its own, as the GPU
    does. So this gives the tube's pixels with a quarter of the rasteriser set-up work.

    An affine map multiplies every signed area by its determinant and keeps convexity, so which triangles
    face the camera, and whether a quad is convex, is decided once per segment in local coordinates; per
    instance only the determinant's sign is needed.
    """
    _, h, w, _ = buf.shape
    n_st = left.shape[0]
    n_seg = n_st - 1
    # local signed areas of the 8 triangles per segment, and whether the quad is convex
    local_tris = np.empty((n_seg, 8, 6))
    local_cross = np.empty((n_seg, 8))
    local_quad = np.empty(n_seg)
    convex = np.empty(n_seg, dtype=np.bool_)
    qx = np.empty(4)
    qy = np.empty(4)
    for i in range(n_seg):
        _band_triangles(
            local_tris[i],
            0.5 * (left[i, 0] + right[i, 0]),
            0.5 * (left[i, 1] + right[i, 1]),
            0.5 * (left[i + 1, 0] + right[i + 1, 0]),
            0.5 * (left[i + 1, 1] + right[i + 1, 1]),
            left[i, 0],
            left[i, 1],
            left[i + 1, 0],
            left[i + 1, 1],
            right[i, 0],
            right[i, 1],
            right[i + 1, 0],
            right[i + 1, 1],
        )
        for t in range(8):
            tr = local_tris[i, t]
            local_cross[i, t] = (tr[2] - tr[0]) * (tr[5] - tr[1]) - (tr[4] - tr[0]) * (tr[3] - tr[1])
        qx[0], qy[0] = left[i, 0], left[i, 1]
        qx[1], qy[1] = left[i + 1, 0], left[i + 1, 1]
        qx[2], qy[2] = right[i + 1, 0], right[i + 1, 1]
        qx[3], qy[3] = right[i, 0], right[i, 1]
        convex[i] = _convex4(qx, qy)
        local_quad[i] = _area2(qx, qy, 4)
    lx = np.empty(n_st)
    ly = np.empty(n_st)
    rx = np.empty(n_st)
    ry = np.empty(n_st)
    slopes = np.empty(4)
    lut_max = lut.max()
    for k in range(mats.shape[0]):
        alpha255 = 255.0 * alphas[k]
        if alpha255 * lut_max < 0.5:  # every fragment would add round(…) = 0 to every channel
            continue
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
        for i in range(n_seg):
            if max(lx[i], lx[i + 1], rx[i], rx[i + 1]) < 0.0 or min(lx[i], lx[i + 1], rx[i], rx[i + 1]) > w:
                continue
            if max(ly[i], ly[i + 1], ry[i], ry[i + 1]) < 0.0 or min(ly[i], ly[i + 1], ry[i], ry[i + 1]) > h:
                continue
            # The tube's four faces about the centreline C, triangulated as three.js does: faces 0 and 3 face
            # the camera for a non-mirrored instance, faces 1 and 2 for a mirrored one; culling decides.
            # On screen a triangle faces the camera when its pixel-space signed area (det × local) is < 0.
            lc = local_cross[i]
            plain = det * lc[0] < 0.0 and det * lc[1] < 0.0 and det * lc[6] < 0.0 and det * lc[7] < 0.0
            mirrored = det * lc[2] < 0.0 and det * lc[3] < 0.0 and det * lc[4] < 0.0 and det * lc[5] < 0.0
            if (plain or mirrored) and convex[i]:
                if det * local_quad[i] > 0.0:  # wind it like a front triangle
                    qx[0], qy[0], qx[1], qy[1] = rx[i], ry[i], rx[i + 1], ry[i + 1]
                    qx[2], qy[2], qx[3], qy[3] = lx[i + 1], ly[i + 1], lx[i], ly[i]
                else:
                    qx[0], qy[0], qx[1], qy[1] = lx[i], ly[i], lx[i + 1], ly[i + 1]
                    qx[2], qy[2], qx[3], qy[3] = rx[i + 1], ry[i + 1], rx[i], ry[i]
                _fill_convex(buf, offsets, qx, qy, 4, tx, ty, 0.0, gx, gy, alpha255, lut, lut_scale, slopes)
                continue
            for t in range(8):  # a fold (tight curve, thick band): each front triangle on its own
                if det * lc[t] < 0.0:
                    tr = local_tris[i, t]
                    for v in range(3):
                        qx[v] = a00 * tr[2 * v] + a01 * tr[2 * v + 1] + tx
                        qy[v] = a10 * tr[2 * v] + a11 * tr[2 * v + 1] + ty
                    _fill_convex(
                        buf, offsets, qx, qy, 3, tx, ty, 0.0, gx, gy, alpha255, lut, lut_scale, slopes
                    )


@njit(cache=True, nogil=True)
def _band_triangles(out, cx0, cy0, cx1, cy1, lx0, ly0, lx1, ly1, rx0, ry0, rx1, ry1):
    """The 8 triangles of one tube segment projected flat (radial vertices C, L, C, R; three.js order)."""
    _set_tri(out, 0, cx0, cy0, cx1, cy1, lx0, ly0)  # face 0: C → L
    _set_tri(out, 1, cx1, cy1, lx1, ly1, lx0, ly0)
    _set_tri(out, 2, lx0, ly0, lx1, ly1, cx0, cy0)  # face 1: L → C
    _set_tri(out, 3, lx1, ly1, cx1, cy1, cx0, cy0)
    _set_tri(out, 4, cx0, cy0, cx1, cy1, rx0, ry0)  # face 2: C → R
    _set_tri(out, 5, cx1, cy1, rx1, ry1, rx0, ry0)
    _set_tri(out, 6, rx0, ry0, rx1, ry1, cx0, cy0)  # face 3: R → C
    _set_tri(out, 7, rx1, ry1, cx1, cy1, cx0, cy0)


@njit(cache=True, nogil=True, inline="always")
def _set_tri(out, t, x0, y0, x1, y1, x2, y2):
    out[t, 0], out[t, 1], out[t, 2], out[t, 3], out[t, 4], out[t, 5] = x0, y0, x1, y1, x2, y2


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
