"""Scene pose moves: the whole picture shifts, turns and zooms as the spec's transforms say, and
registration finds the shift that lays a candidate over its target."""

from __future__ import annotations

import numpy as np
import pytest

from core.params import MAIN_PARAMS
from core.refine.alternatives import symmetry_variants
from core.refine.evaluate import Scorer
from core.refine.loss import make_loss
from core.refine.pose import (
    aligned,
    pose_variants,
    registration_shift,
    separate_copy,
    shift_scene,
    turn_scene,
    zoom_scene,
)
from core.refine.space import complete
from core.render import render

SCENE = complete(
    {
        "geometry": "roundedRect",
        "repetitions": 50,
        "scale": 0.9,
        "rotation": 0.7,
        "position": {"x": 0.2, "y": -0.3},
        "layers": [{"position": {"x": -0.4, "y": 0.1}, "rotation": 0.3, "scale": {"x": -1.0, "y": 1.0}}],
    }
)


def _float(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) / 255.0


def test_shifting_a_layered_scene_moves_the_whole_picture():
    w, h = 320, 180
    base = render(SCENE, w, h, quality="fast")
    moved = render(shift_scene(SCENE, 0.5, 0.25), w, h, quality="fast")
    px = w / 5.0  # world units → px: the frame is 5 units wide
    dx, dy = round(0.5 * px), round(0.25 * px)
    # +y is up on screen: the picture moves right by dx and up by dy (rows shrink)
    inner = np.s_[dy + 20 : h - 20, 20 : w - dx - 20]
    shifted_back = moved[dy + 20 - dy : h - 20 - dy, 20 + dx : w - 20]
    assert np.abs(base[inner].astype(int) - shifted_back.astype(int)).mean() < 2.0
    assert registration_shift(_float(moved), _float(base)) == pytest.approx((0.5, 0.25), abs=2 * 5.0 / w)


@pytest.mark.parametrize("symmetry", ["mirror left-right", "mirror top-bottom", "180° rotation"])
def test_separating_a_copy_moves_the_pair_apart_and_keeps_it_symmetric(symmetry: str) -> None:
    """The main layer moves by (dx, dy) on screen, its copy the mirror way: the picture keeps the copy's
    symmetry about the frame's centre, which a shift of both (shift_scene) breaks."""
    flips = {
        "mirror left-right": lambda a: a[:, ::-1],
        "mirror top-bottom": lambda a: a[::-1],
        "180° rotation": lambda a: a[::-1, ::-1],
    }
    pair = dict(symmetry_variants({**SCENE, "rotation": 0.0}))[symmetry]  # mirrors about the screen's axes
    w, h = 320, 180

    def asymmetry(params: dict) -> float:
        light = render(params, w, h, quality="fast").astype(np.float32).mean(axis=2)
        return float(np.abs(light - flips[symmetry](light)).mean())

    sampling = asymmetry(pair)  # the renderer's own: its sample pattern is not symmetric
    assert asymmetry(separate_copy(pair, 0.5, 0.25)) < sampling + 0.5
    assert asymmetry(shift_scene(pair, 0.5, 0.25)) > sampling + 3.0  # a shift moves both copies alike
    # in a turned scene the move is expressed inside its rotation and scale, and the copy still mirrors it
    turned = dict(symmetry_variants(SCENE))[symmetry]
    moved = separate_copy(turned, 0.5, 0.25)
    s, theta = SCENE["scale"], SCENE["rotation"]
    c, n = np.cos(-theta), np.sin(-theta)
    ux, uy = (c * 0.5 - n * 0.25) / s, (n * 0.5 + c * 0.25) / s
    assert moved["position"]["x"] == pytest.approx(turned["position"]["x"] + ux, abs=1e-3)
    assert moved["position"]["y"] == pytest.approx(turned["position"]["y"] + uy, abs=1e-3)
    ax, ay = turned["layers"][0]["scale"]["x"], turned["layers"][0]["scale"]["y"]
    assert moved["layers"][0]["position"]["x"] == pytest.approx(moved["position"]["x"] * ax, abs=1e-3)
    assert moved["layers"][0]["position"]["y"] == pytest.approx(moved["position"]["y"] * ay, abs=1e-3)


def test_turning_a_quarter_turn_rotates_the_square_frame():
    square = render(SCENE, 128, 128, quality="fast")
    turned = render(turn_scene(SCENE, np.pi / 2), 128, 128, quality="fast")
    assert np.abs(np.rot90(square).astype(int) - turned.astype(int)).mean() < 2.0
    assert np.abs(square.astype(int) - turned.astype(int)).mean() > 5.0  # it did move


def test_zoom_multiplies_the_scale_within_its_bounds():
    lo, hi = next(p for p in MAIN_PARAMS if p.name == "scale").bounds
    assert zoom_scene(SCENE, 1.5)["scale"] == pytest.approx(0.9 * 1.5)
    assert zoom_scene(SCENE, 1e6)["scale"] == hi  # clamped as the original clamps
    assert lo <= zoom_scene(SCENE, 1e-9)["scale"] < 1e-6


@pytest.mark.parametrize("supersample", [1, 2])  # uint8 renders, and float ones averaged down
def test_registration_brings_a_misplaced_guess_back_and_pose_variants_are_scored(supersample: int):
    target = render(SCENE, 160, 90, quality="fast")
    scorer = Scorer(make_loss("ssim_lum", target, 160), supersample=supersample)
    off = shift_scene(SCENE, -0.6, 0.4)
    back = aligned(scorer, off)
    assert scorer(back) < 0.5 * scorer(off)
    assert back["position"]["x"] == pytest.approx(SCENE["position"]["x"], abs=0.1)
    names = [name for name, _ in pose_variants(scorer, off)]
    assert names[0] == "shifted" and any(n.startswith("turned") for n in names)
    assert any(n.startswith("zoomed") for n in names)


def test_a_black_image_gives_no_shift():
    black = np.zeros((90, 160, 3), np.float32)
    assert registration_shift(black, _float(render(SCENE, 160, 90, quality="fast"))) == (0.0, 0.0)


def test_shifting_a_layer_less_scene_moves_its_implicit_mirror_too():
    """A layer-less scene (every bank scene) draws the renderer's default mirror layer: it moves with the
    main layer, so the whole picture shifts."""
    scene = {
        "geometry": "ring",
        "repetitions": 40,
        "scale": 0.7,
        "position": {"x": 0.6, "y": -0.2},
        "layers": [],
    }
    base = render(scene, 320, 180, quality="fast")
    moved = render(shift_scene(scene, 0.5, 0.0), 320, 180, quality="fast")
    assert registration_shift(_float(moved), _float(base)) == pytest.approx((0.5, 0.0), abs=2 * 5.0 / 320)
