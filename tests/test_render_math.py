"""Scene math, colour pipeline and shapes against hand-computed values (renderer-spec §3–§6)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.render import color, scene, shapes


def test_scale_progressions_by_hand() -> None:
    i = np.arange(5, dtype=float)
    np.testing.assert_allclose(scene.scale_progression("exponential", 1.1, i), 1.1**i)
    np.testing.assert_allclose(scene.scale_progression("linear", 0.5, i), [1, 0.95, 0.9, 0.85, 0.8])
    # linear floors at 0.01
    assert scene.scale_progression("linear", 0.0, np.array([20.0]))[0] == pytest.approx(0.01)
    np.testing.assert_allclose(scene.scale_progression("additive", 0.5, i), [1, 0.5, 0, -0.5, -1])
    np.testing.assert_allclose(scene.scale_progression("golden", 2.0, i), 2.0 ** (0.382 * i))
    np.testing.assert_allclose(
        scene.scale_progression("fibonacci", 1.2, i), 1.2 ** (i * np.abs(np.sin(0.1618 * i)))
    )
    np.testing.assert_allclose(
        scene.scale_progression("sine", 0.9, i), 0.9 ** (i * (0.3 + 0.7 * np.abs(np.sin(0.2 * i))))
    )
    # 0^0 = 1; unknown kinds behave as exponential
    assert scene.scale_progression("exponential", 0.0, np.array([0.0]))[0] == 1.0
    np.testing.assert_allclose(scene.scale_progression("nonsense", 1.1, i), 1.1**i)


def test_alpha_progressions_by_hand() -> None:
    i = np.array([0.0, 1.0, 10.0, 1000.0])
    np.testing.assert_allclose(
        scene.alpha_progression("exponential", 0.5, i, 50), np.maximum(0.02, np.exp(-0.15 * i))
    )
    assert scene.alpha_progression("exponential", 0.5, i, 50)[-1] == 0.02  # the floor
    np.testing.assert_allclose(scene.alpha_progression("linear", 0.5, np.array([0.0, 10.0]), 40), [1, 0.875])
    np.testing.assert_allclose(scene.alpha_progression("inverse", 0.2, np.array([0.0, 10.0]), 40), [0.2, 0.4])
    # N is the repetitions value itself (65.5), not floored
    assert scene.alpha_progression("linear", 0.0, np.array([10.0]), 65.5)[0] == pytest.approx(1 - 10 / 65.5)


def test_rotation_progressions_by_hand() -> None:
    i = np.arange(14, dtype=float)
    np.testing.assert_allclose(scene.rotation_progression("linear", 0.5, i), 180 * i)
    np.testing.assert_allclose(scene.rotation_progression("golden-angle", 1.0, i), 137.5 * i)
    fib = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 0, 1]
    np.testing.assert_allclose(scene.rotation_progression("fibonacci", 1.0, i), 15 * np.array(fib))
    np.testing.assert_allclose(scene.rotation_progression("sine", -0.5, i), -90 * np.sin(0.2 * i))


BASE = {"xStep": 0.5, "yStep": -0.25, "positionProgression": "index", "positionCoupled": True}


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("center", (0.75, -0.375)),
        ("top-center", (0.75, 1.375)),
        ("bottom-center", (0.75, -1.375)),
        ("top-left", (-0.25, 1.375)),
        ("top-right", (0.25, 1.375)),
        ("bottom-left", (-0.25, -1.375)),
        ("bottom-right", (0.25, -1.375)),
    ],
)
def test_origin_anchors(origin: str, expected: tuple[float, float]) -> None:
    # i = 1, σ = 1 (coupled): raw step (u, v) = 1.5·(0.5, −0.25) = (0.75, −0.375); stepFactor 2 scales all.
    p = {**BASE, "origin": origin}
    pos = scene.instance_positions(p, 2.0, np.array([1.0]), np.array([1.0]))
    np.testing.assert_allclose(pos[0], 2.0 * np.array(expected))


def test_position_coupling_and_scale_progression() -> None:
    sigma, i = np.array([0.5]), np.array([4.0])
    coupled = scene.instance_positions({**BASE, "origin": "center"}, 1.0, sigma, i)
    np.testing.assert_allclose(coupled[0], 1.5 * 4 * 0.5 * np.array([0.5, -0.25]))
    loose = scene.instance_positions({**BASE, "origin": "center", "positionCoupled": False}, 1.0, sigma, i)
    np.testing.assert_allclose(loose[0], 1.5 * 4 * np.array([0.5, -0.25]))
    by_scale = scene.instance_positions(
        {**BASE, "origin": "center", "positionProgression": "scale"}, 1.0, sigma, i
    )
    np.testing.assert_allclose(by_scale[0], 1.5 * 0.5 * np.array([0.5, -0.25]))


def test_parent_matrices_order() -> None:
    p = {"rotation": math.pi / 2, "scale": 2.0, "position": {"x": 1.0, "y": 0.0}}
    main = scene.parent_matrix(p, None)
    # position sits inside rotation and scale: origin → Rz(90°)·2·(1, 0) = (0, 2)
    np.testing.assert_allclose(main @ [0, 0, 0, 1], [0, 2, 0, 1], atol=1e-12)
    layer = {"position": {"x": 1.0, "y": 0.0}, "rotation": 0.0, "scale": {"x": -1.0, "y": 1.0}}
    mirrored = scene.parent_matrix(p, layer)
    # the layer is not offset by Scene.position, and mirrors x before the layer offset
    np.testing.assert_allclose(mirrored @ [1, 0, 0, 1], [0, 0, 0, 1], atol=1e-12)


def test_recompose_keeps_similarity_and_drops_shear() -> None:
    rng = np.random.default_rng(0)
    sim = np.stack(
        [
            scene.parent_matrix(
                {
                    "rotation": rng.uniform(-3, 3),
                    "scale": rng.uniform(0.1, 2),
                    "position": {"x": 0.3, "y": -0.2},
                },
                None,
            )
            @ scene.instance_matrices(np.array([s]), np.array([rng.uniform(-400, 400)]), np.zeros((1, 2)))[0]
            for s in (0.5, -0.7, 1.3)
        ]
    )
    out, valid = scene.recompose(sim)
    assert valid.all()
    np.testing.assert_allclose(out, sim, atol=1e-12)  # W′ = W without shear, also for σ < 0
    squashed = {"position": {"x": 0.0, "y": 0.0}, "rotation": 0.3, "scale": {"x": 1.5, "y": 0.5}}
    w = scene.parent_matrix(
        {"rotation": 0.0, "scale": 1.0, "position": {"x": 0, "y": 0}}, squashed
    ) @ scene.instance_matrices(np.array([1.0]), np.array([30.0]), np.zeros((1, 2)))
    out, _ = scene.recompose(w)
    lin = out[0, :2, :2]
    assert abs(lin[:, 0] @ lin[:, 1]) < 1e-9  # columns orthogonal: the shear is gone
    # spec §4.3, common 2-D case (σ > 0, r33 = 1), with the quaternion left unnormalised
    raw = w[0, :3, :3]
    s_x, s_y = np.linalg.norm(raw[:, 0]), np.linalg.norm(raw[:, 1])
    r = raw[:2, :2] / [s_x, s_y]
    h = 0.5 / math.sqrt(r[0, 0] + r[1, 1] + 2)
    qw, qz = 0.25 / h, (r[1, 0] - r[0, 1]) * h
    expected = [[(1 - 2 * qz**2) * s_x, -2 * qw * qz * s_y], [2 * qw * qz * s_x, (1 - 2 * qz**2) * s_y]]
    np.testing.assert_allclose(lin, expected, atol=1e-12)
    assert not abs(w[0, :2, 0] @ w[0, :2, 1]) < 1e-3  # ...while the raw matrix had shear


def test_recompose_marks_degenerate_invalid() -> None:
    w = scene.instance_matrices(np.array([0.0, 1.0]), np.zeros(2), np.zeros((2, 2)))
    _, valid = scene.recompose(w)
    assert valid.tolist() == [False, True]


@pytest.mark.parametrize(
    ("hex_color", "g", "expected"),
    [
        ("#efeddb", 1.0, (216, 214, 200)),
        ("#efeddb", 0.684, (198, 196, 177)),
        ("#efeddb", 0.1, (69, 67, 52)),
        ("#FFFDDD", 1.0, (227, 225, 204)),
        ("#ffffff", 1.0, (226, 226, 226)),
    ],
)
def test_worked_colour_values(hex_color: str, g: float, expected: tuple[int, int, int]) -> None:
    base = color.layer_base_color(hex_color, None)
    assert tuple(np.round(255 * color.display(base * g)).astype(int)) == expected


def test_grey_ramp() -> None:
    # spec §6.7 lists 8/87/197/226/242; the formulas of §6.4–6.5 give 86.49 for 0.1 (noted in the issue).
    ramp = [255 * color.display(np.full(3, v))[0] for v in (0.01, 0.1, 0.5, 1, 2)]
    np.testing.assert_allclose(ramp, [8, 87, 197, 226, 242], atol=0.6)


def test_gradient_factor() -> None:
    assert color.gradient_factor(0.5, 0.2, 1.0) == pytest.approx(0.684, abs=1e-3)  # the default's maximum
    assert color.gradient_factor(1.0, 0.2, 1.0) == pytest.approx(0.0)
    assert color.gradient_factor(0.7, 0.7, 0.7) == 0.0  # lo == hi: a step
    assert color.gradient_factor(0.69, 0.7, 0.7) == 1.0


def test_shapes_stations_and_frames() -> None:
    for name, shape in shapes.SHAPES.items():
        pts, tan = shapes.stations(name)
        assert len(pts) == shape.segments + 1
        np.testing.assert_allclose(np.linalg.norm(tan, axis=1), 1.0)
        steps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        if name not in ("square", "u"):  # arc-length uniform: equal chords on smooth curves
            assert steps.std() / steps.mean() < 0.03, name
    square, tangents = shapes.stations("square")
    np.testing.assert_allclose(
        square[[0, 16, 32, 48, 64], :2],
        [[-0.7, -0.7], [0.7, -0.7], [0.7, 0.7], [-0.7, 0.7], [-0.7, -0.7]],
        atol=1e-9,
    )
    np.testing.assert_allclose(tangents[16, :2], np.array([1, 1]) / math.sqrt(2), atol=1e-6)  # bisector
    normals, _ = shapes.frenet_frames(*[shapes.stations("ring")[1], True])
    np.testing.assert_allclose(normals, np.tile([0, 0, -1.0], (129, 1)), atol=1e-9)
    spiral_normals, _ = shapes.frenet_frames(shapes.stations("spiral")[1], False)
    assert np.abs(spiral_normals[:, 2] + 1).max() > 0.01  # the spiral's frame twists out of −z


def test_tube_mesh_band_width() -> None:
    verts, tris = shapes.tube_mesh("bar", 0.05, 0.0)
    assert verts[:, 0].min() == pytest.approx(-0.05) and verts[:, 0].max() == pytest.approx(0.05)
    assert len(tris) == 16 * 4 * 2
    rotated, _ = shapes.tube_mesh("bar", 0.05, math.pi / 2)
    assert rotated[:, 1].max() == pytest.approx(0.05) and rotated[:, 0].max() == pytest.approx(0.9)


def test_fused_world_matrices_equal_the_reference_products() -> None:
    """build_layer's one-pass kernel is recompose(parent @ instance_matrices), degenerate instances too."""
    rng = np.random.default_rng(4)
    layer = {"position": {"x": 0.2, "y": -0.4}, "rotation": 0.7, "scale": {"x": -1.3, "y": 0.6}}
    parent = scene.parent_matrix({"rotation": 0.4, "scale": 0.8, "position": {"x": 0.1, "y": 0.3}}, layer)
    sigma = np.concatenate([rng.uniform(-2, 2, 40), [0.0]])
    phi, pos = rng.uniform(-400, 400, 41), rng.uniform(-3, 3, (41, 2))
    world, valid = scene.world_matrices(parent, sigma, phi, pos)
    ref, ref_valid = scene.recompose(parent[None] @ scene.instance_matrices(sigma, phi, pos))
    assert valid.tolist() == ref_valid.tolist() and not valid[-1]
    np.testing.assert_allclose(world[valid], ref[ref_valid], rtol=0, atol=1e-12)
