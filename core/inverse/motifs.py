"""Motif starts: scene families that designs drawn by hand use often and the sampler almost never draws.

The retrieval bank holds what `sample_params` draws, and the first guess can only start refinement in a
family that the bank, the CNN or their variants reach. One family designers use all the time is missing:
the **anchored trail**, a shape repeated ever larger about one of its own points (a corner, the middle of
an edge), as a design tool's "scale from corner" repeats it: nested rounded squares that share a corner,
rings that share a point of their rim. figma-01's hourglass is two such ring trails: its best first guess
went from a bank scene at loss 0.592 to a ring trail at 0.499, and its refined lum_corr from 0.81 / 0.79
to 0.86 / 0.875 (seeds 0 / 1). figma-02 is a **pair of trails apart**: rings that share the corner of
their bounding square, and the same turned 180° about the frame's centre. Drawn about the centre, the two
overlap; the pairs below draw it (first-guess loss 0.77, a bank scene, → 0.61; refined lum_corr 0.78 →
0.85, seed 0). figma-00's squares also turn as they grow, which no trail here draws.

The renderer draws one exactly. With positionProgression "scale", instance i sits at
stepFactor · 1.5 · |1 − σ_i| · (xStep, yStep) (spec §3), and its shape's point q at that plus σ_i · q.
For growing instances (σ_i ≥ 1), (xStep, yStep) = −q / (1.5 · stepFactor) keeps every instance's q at q.
The sampler draws the steps at random, so it hits that direction and length by chance only.

`best_motifs` scores the trails with the caller's loss, each first without a mirror copy, then the best
few in each symmetry about the frame's centre; then each trail moved onto the target's light on its own
with its copy added, symmetric about the centre (a pair apart), and the best pairs moved further apart or
together; and hands back the best for the first guess to rank with the CNN's and the bank's guesses.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from core.params import defaults, identity, validate
from core.refine.alternatives import symmetry_variants
from core.refine.evaluate import Evaluator, Scorer, score_task
from core.refine.pose import aligned, separate_copy
from core.refine.space import complete

HALF_SIZES: dict[str, float] = {"roundedRect": 0.65, "square": 0.7, "ring": 0.9}
"""Half the shape's extent in its own units (spec §5.2): where its corners and edges' middles lie."""
GROWTHS: tuple[float, ...] = (1.03, 1.06, 1.12)
"""scaleFactor per instance (exponential progression): slow, medium and fast trails."""
COUNTS: tuple[int, ...] = (12, 24, 40)
"""Instances per trail: designs drawn by hand hold tens, where the sampler draws 80–500 in 80 % of scenes."""
LARGEST_HALF_SIZE = 1.0
"""Half-size of the largest instance in scene units (the frame is 5 units wide): a trail fits the frame;
the first guess's shift and zoom variants then fit it to the target."""
MOTIF_STARTS = 16
"""Motif scenes handed to the first guess's ranking."""
VARIED_OF = 24
"""Best trails (scored without a copy) also scored in each symmetry about the frame's centre."""
PAIRED_OF = 12
"""Best trails moved onto the target's light on their own, then scored with each copy (a pair apart)."""
SEPARATED_OF = 4
"""Best scenes with a copy whose pair is also moved apart or together on the `SEPARATIONS` grid."""
SEPARATION_STEP = 0.25
"""Grid step of the pair's separation in world units (the frame is 5 wide: 8 px at the loss's 160 px)."""
SEPARATIONS: tuple[tuple[float, float], ...] = tuple(
    (SEPARATION_STEP * i, SEPARATION_STEP * j) for i in range(-4, 5) for j in range(-3, 4) if i or j
)
"""The main layer's moves (its copy moves the mirror way): up to ±1 across and ±0.75 up or down."""


def anchors(half: float) -> list[tuple[float, float]]:
    """A shape's four corners of its bounding square and the middles of its four edges."""
    corners = [(sx * half, sy * half) for sx in (-1.0, 1.0) for sy in (-1.0, 1.0)]
    return [*corners, (half, 0.0), (-half, 0.0), (0.0, half), (0.0, -half)]


def anchored_trail(geometry: str, anchor: tuple[float, float], growth: float, count: int) -> dict[str, Any]:
    """`count` instances of `geometry`, each `growth`× the last, all sharing the shape's point `anchor`,
    which sits at the frame's centre; the implicit mirror layer is made explicit (so a symmetry variant
    can replace it)."""
    qx, qy = anchor
    largest = growth ** (count - 1)
    params = complete(defaults())
    params.update(
        geometry=geometry,
        repetitions=count,
        scaleFactor=growth,
        scaleProgression="exponential",
        positionProgression="scale",
        origin="center",
        stepFactor=1.0,
        xStep=-qx / 1.5,
        yStep=-qy / 1.5,
        rotationFactor=0.0,
        alphaFactor=0.9,
        alphaProgression="exponential",
        geoWidth=0.01,
        scale=min(2.0, LARGEST_HALF_SIZE / (largest * HALF_SIZES[geometry])),
        position={"x": -qx, "y": -qy},
        rotation=0.0,
        gradientRange=[0.2, 1.0],
    )
    return validate(params)


@lru_cache(maxsize=1)
def _trails() -> tuple[tuple[str, dict[str, Any]], ...]:
    out = []
    for geometry, half in HALF_SIZES.items():
        for anchor, growth, count in itertools.product(anchors(half), GROWTHS, COUNTS):
            name = f"motif {geometry} trail about ({anchor[0]:+.2f}, {anchor[1]:+.2f}), ×{growth}, {count}"
            out.append((name, anchored_trail(geometry, anchor, growth, count)))
    return tuple(out)


def anchored_trails() -> list[tuple[str, dict[str, Any]]]:
    """Every anchored trail: (name, params), one per geometry, anchor, growth and count."""
    return [(name, complete(params)) for name, params in _trails()]


def best_motifs(
    scorer: Scorer,
    k: int = MOTIF_STARTS,
    varied_of: int = VARIED_OF,
    paired_of: int = PAIRED_OF,
    separated_of: int = SEPARATED_OF,
    evaluator: Evaluator | None = None,
) -> list[tuple[str, dict[str, Any], float]]:
    """The k motif scenes that `scorer` ranks best, best first, as (name, params, score).

    Every trail is scored with no copy, where it was drawn (about the frame's centre); the best
    `varied_of` also with a mirror copy either way and a 180° copy. Then every trail is moved onto the
    target's light on its own (image registration) and the best `paired_of` of those are scored with each
    copy, symmetric about the frame's centre: a pair of trails apart. Last, the best `separated_of` scenes
    with a copy are scored with the pair moved apart or together on a grid (`separate_copy`), then half a
    step about the best two. 600–800 scores in all: the whole first guess of a 1652×919 target took
    1.5–1.7 s on the four references, against 0.6–0.9 s without the pairs and separations.
    `evaluator` (holding `scorer`): score each stage's batch on its workers, with the same results."""
    if k <= 0:
        return []

    run = (evaluator or Evaluator(scorer)).map  # one worker: no pool, the batch scored here

    def scores(batch: Sequence[dict[str, Any]]) -> list[float]:
        return run(score_task, batch)

    scored: list[tuple[float, str, dict[str, Any]]] = []
    trails = []
    for name, params in _trails():  # symmetry_variants hands back copies: the cache stays as it is
        variants = dict(symmetry_variants(params))
        trails.append((name, variants.pop("no copy"), variants))
    # each trail is drawn once: scored, registered on the target and its move scored, where it was drawn
    found = run(_scored_and_aligned, [alone for _, alone, _ in trails])
    plain = [
        (value, f"{name} + no copy", alone, name, variants, moved, moved_value)
        for (name, alone, variants), (value, moved, moved_value) in zip(trails, found, strict=True)
    ]
    plain.sort(key=lambda s: s[0])
    scored += [(value, source, params) for value, source, params, *_ in plain]
    varied = [
        (f"{name} + {variant}", v)
        for _, _, _, name, variants, *_ in plain[:varied_of]
        for variant, v in variants.items()
    ]
    scored += [
        (value, source, v) for (source, v), value in zip(varied, scores([v for _, v in varied]), strict=True)
    ]
    registered = [(moved_value, f"{name} + shifted", moved) for _, _, _, name, _, moved, moved_value in plain]
    registered.sort(key=lambda s: s[0])
    scored += registered
    pairs = [
        (f"{source} + {variant}", v)
        for _, source, moved in registered[:paired_of]
        for variant, v in symmetry_variants(moved)
        if _has_copy(v)
    ]
    scored += [
        (value, name, v) for (name, v), value in zip(pairs, scores([v for _, v in pairs]), strict=True)
    ]
    scored.sort(key=lambda s: s[0])
    scored += _separated(scores, [s for s in scored if _has_copy(s[2])][:separated_of])
    scored.sort(key=lambda s: s[0])
    return [(source, params, value) for value, source, params in scored[:k]]


def _scored_and_aligned(params: dict[str, Any], scorer: Scorer) -> tuple[float, dict[str, Any], float]:
    """(loss of params, params moved onto the target's light, the moved scene's loss): one render reused."""
    value, image = scorer.scored_image(params)
    moved = aligned(scorer, params, image)
    return value, moved, scorer(moved)


def _separated(
    scores: Callable[[Sequence[dict[str, Any]]], list[float]], pairs: list[tuple[float, str, dict[str, Any]]]
) -> list[tuple[float, str, dict[str, Any]]]:
    """Each scene of a pair moved apart or together by every step of `SEPARATIONS`, then by half a step
    about the best two of all: (score, name, params). Moves that the positions' bounds (±2, the original's
    clamp) make the same scene are scored once. `scores`: losses of a batch of scenes, in order."""
    seen = {identity(params) for _, _, params in pairs}
    out: list[tuple[float, str, dict[str, Any], float, float, dict[str, Any]]] = []

    def add(moves: list[tuple[str, dict[str, Any], float, float]]) -> None:
        batch = []
        for source, params, dx, dy in moves:
            moved = separate_copy(params, dx, dy)
            key = identity(moved)
            if key not in seen:
                seen.add(key)
                batch.append((source, params, dx, dy, moved))
        values = scores([moved for *_, moved in batch])
        out.extend((value, *move) for value, move in zip(values, batch, strict=True))

    add([(source, params, dx, dy) for _, source, params in pairs for dx, dy in SEPARATIONS])
    out.sort(key=lambda s: s[0])
    half = SEPARATION_STEP / 2
    add(
        [
            (source, params, dx + ex, dy + ey)
            for _, source, params, dx, dy, _ in out[:2]
            for ex, ey in itertools.product((-half, 0.0, half), repeat=2)
        ]
    )
    return [
        (value, f"{source} + apart ({dx:+.2f}, {dy:+.2f})", moved) for value, source, _, dx, dy, moved in out
    ]


def _has_copy(params: dict[str, Any]) -> bool:
    """Whether the scene's first layer draws (symmetry_variants hides it with a zero scale)."""
    scale = params["layers"][0]["scale"]
    return scale["x"] != 0.0 and scale["y"] != 0.0
