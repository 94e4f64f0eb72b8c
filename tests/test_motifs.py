"""Motif starts (core.inverse.motifs): anchored trails, and their place in the first guess."""

from __future__ import annotations

import numpy as np
import pytest

from core.inverse.motifs import (
    GROWTHS,
    HALF_SIZES,
    LARGEST_HALF_SIZE,
    anchored_trail,
    anchored_trails,
    anchors,
    best_motifs,
)
from core.params import validate
from core.refine.alternatives import symmetry_variants
from core.refine.evaluate import Evaluator, Scorer
from core.refine.loss import make_loss
from core.refine.pose import separate_copy
from core.render import render
from core.render.scene import instance_positions, scale_progression


class CountingScorer(Scorer):
    """A Scorer that counts its renders (what a motif search costs)."""

    renders = 0

    def image(self, params: dict) -> np.ndarray:
        self.renders += 1
        return super().image(params)


@pytest.mark.parametrize("geometry", sorted(HALF_SIZES))
def test_every_instance_keeps_the_anchor_where_it_is(geometry: str) -> None:
    """The renderer's own position and scale formulas (spec §3) put every instance's anchor point on
    the first instance's: the trail grows about that point, and the point sits at the frame's centre."""
    for anchor in anchors(HALF_SIZES[geometry]):
        for growth in GROWTHS:
            params = anchored_trail(geometry, anchor, growth, 24)
            i = np.arange(params["repetitions"], dtype=float)
            sigma = scale_progression(params["scaleProgression"], params["scaleFactor"], i)
            offsets = instance_positions(params, params["stepFactor"], sigma, i)
            q = np.array(anchor)
            np.testing.assert_allclose(
                offsets + sigma[:, None] * q, np.broadcast_to(q, offsets.shape), atol=1e-9
            )
            position = params["position"]
            assert (position["x"] + anchor[0], position["y"] + anchor[1]) == pytest.approx((0.0, 0.0))
            largest = sigma.max() * HALF_SIZES[geometry] * params["scale"]
            assert largest <= LARGEST_HALF_SIZE + 1e-9


def test_trails_are_valid_distinct_and_draw_light() -> None:
    trails = anchored_trails()
    assert len({name for name, _ in trails}) == len(trails) == 3 * 8 * 3 * 3
    for _, params in trails[::17]:
        assert validate(params) == validate(validate(params))
        lit = float((render(params, 96, 54, quality="fast").max(axis=2) > 12).mean())
        assert 0.0 < lit < 0.9


def test_best_motifs_finds_a_trail_in_its_symmetry() -> None:
    trail = anchored_trail("roundedRect", (0.65, -0.65), 1.06, 24)
    target = render(dict(symmetry_variants(trail))["180° rotation"], 160, 90, quality="fast")
    scorer = CountingScorer(make_loss("ssim_lum", target), "fast", 1)
    found = best_motifs(scorer, k=5)
    assert len(found) == 5
    # the trail about the opposite corner, turned 180°, is the same picture
    twins = [
        f"motif roundedRect trail about {q}, ×1.06, 24 + 180° rotation"
        for q in ("(+0.65, -0.65)", "(-0.65, +0.65)")
    ]
    assert found[0][0] in twins
    assert scorer(found[0][1]) == pytest.approx(0.0, abs=1e-6)
    assert found[0][2] == scorer(found[0][1])  # each motif comes with its score
    # every trail twice (where drawn, and moved onto the light: the registration reuses the first render),
    # the best 24 and 12 with each copy, a grid of separations for 4; drawing each trail again for its
    # registration would cost 216 renders more (> 1000)
    assert scorer.renders < 850
    assert best_motifs(scorer, k=0) == []


def test_best_motifs_finds_a_pair_of_trails_apart() -> None:
    """figma-02's kind of design: a trail about its own corner and the same turned 180° about the frame's
    centre, the two apart. Neither the trails where they are drawn (both anchored at the centre) nor a
    shift of the pair draws it; registering one trail onto the light and adding the copy does."""
    trail = anchored_trail("ring", (0.9, -0.9), 1.06, 24)
    pair = separate_copy(dict(symmetry_variants(trail))["180° rotation"], -0.3, -0.5)
    target = render(pair, 192, 108, quality="exact")
    scorer = CountingScorer(make_loss("ssim_lum", target), "fast", 1)
    found = best_motifs(scorer, k=5)
    assert found[0][2] < 0.2
    assert "180° rotation" in found[0][0] or "mirror" not in found[0][0]
    centred = [s for s in found if "shifted" not in s[0] and "apart" not in s[0]]
    assert all(value > found[0][2] + 0.2 for _, _, value in centred)


def test_motifs_scored_on_workers_are_the_ones_scored_here() -> None:
    """The app scores the motifs on its shared pool (core.inverse.guess workers): the same scenes, names and
    losses, in the same order, as in one process."""
    trail = anchored_trail("ring", (0.9, -0.9), 1.06, 24)
    pair = separate_copy(dict(symmetry_variants(trail))["180° rotation"], -0.3, -0.5)
    scorer = Scorer(make_loss("ssim_lum", render(pair, 192, 108, quality="exact")), "fast", 1)
    here = best_motifs(scorer, k=40)
    with Evaluator(scorer, 2) as evaluator:
        on_workers = best_motifs(scorer, k=40, evaluator=evaluator)
    assert on_workers == here and len(here) == 40


def test_the_first_guess_ranks_motifs_with_the_rest() -> None:
    from core.inverse import load_model
    from core.inverse.guess import guess

    trail = anchored_trail("square", (0.0, 0.7), 1.06, 24)
    target = render(dict(symmetry_variants(trail))["no copy"], 192, 108, quality="exact")
    model = load_model()
    with_motifs = guess(model, target, None)
    assert with_motifs.sources[0].startswith("motif square trail about (+0.00, +0.70), ×1.06, 24")
    assert with_motifs.losses[0] < 0.15  # the target is an exact render at another size
    assert sum(with_motifs.sources[i].startswith("motif") for i in with_motifs.race_indices(8)) == 1
    without = guess(model, target, None, motifs=0)
    assert not any(s.startswith("motif") for s in without.sources)
    assert without.losses[0] > with_motifs.losses[0]


def test_motifs_race_only_as_the_best_guess_and_one_at_a_time() -> None:
    from core.inverse.guess import Guess
    from core.inverse.predict import Prediction

    starts = [{"repetitions": n} for n in range(1, 7)]
    sources = [
        "bank 1/1",
        "motif ring trail about (+0.00, +0.90), ×1.06, 24 + no copy",
        "cnn",
        "motif ring trail about (+0.00, -0.90), ×1.06, 24 + no copy",
        "bank 1/2",
        "bank 1/3",
    ]
    g = Guess(starts, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], sources, Prediction(starts[2]))
    assert g.race(6) == [starts[0], starts[2], starts[4], starts[5]]  # no motif: a bank scene leads
    first = [sources[1], sources[0], sources[2], sources[3], sources[4], sources[5]]
    g = Guess(starts, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], first, Prediction(starts[2]))
    assert g.race(6) == [starts[0], starts[2], starts[1], starts[4], starts[5]]  # the leading motif alone
