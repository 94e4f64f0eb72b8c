"""Motif starts: scene families that designs drawn by hand use often and the sampler almost never draws.

The retrieval bank holds what `sample_params` draws, and the first guess can only start refinement in a
family that the bank, the CNN or their variants reach. One family designers use all the time is missing:
the **anchored trail**, a shape repeated ever larger about one of its own points (a corner, the middle of
an edge), as a design tool's "scale from corner" repeats it: nested rounded squares that share a corner,
rings that share a point of their rim. figma-01's hourglass is two such ring trails: its best first guess
went from a bank scene at loss 0.592 to a ring trail at 0.499, and its refined lum_corr from 0.81 / 0.79
to 0.86 / 0.875 (seeds 0 / 1). figma-00 and figma-02 are trails too, but of shapes that turn or pair up
in ways these plain trails do not draw: no motif is their best guess.

The renderer draws one exactly. With positionProgression "scale", instance i sits at
stepFactor · 1.5 · |1 − σ_i| · (xStep, yStep) (spec §3), and its shape's point q at that plus σ_i · q.
For growing instances (σ_i ≥ 1), (xStep, yStep) = −q / (1.5 · stepFactor) keeps every instance's q at q.
The sampler draws the steps at random, so it hits that direction and length by chance only.

`best_motifs` scores the trails with the caller's loss, each first without a mirror copy, then the best
few in each symmetry about the frame's centre, and hands back the best for the first guess to rank with
the CNN's and the bank's guesses.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from core.params import defaults, validate
from core.refine.alternatives import symmetry_variants
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
    score: Callable[[dict[str, Any]], float], k: int = MOTIF_STARTS, varied_of: int = VARIED_OF
) -> list[tuple[str, dict[str, Any], float]]:
    """The k motif scenes that `score` ranks best, best first, as (name, params, score): every trail
    scored with no copy, then the best `varied_of` also with a mirror copy either way and a 180° copy
    (≈ 300 scores in all)."""
    if k <= 0:
        return []
    plain = []
    for name, params in _trails():  # symmetry_variants hands back copies: the cache stays as it is
        variants = dict(symmetry_variants(params))
        alone = variants.pop("no copy")
        plain.append((score(alone), f"{name} + no copy", alone, name, variants))
    plain.sort(key=lambda s: s[0])
    scored = [(value, source, params) for value, source, params, _, _ in plain]
    for _, _, _, name, variants in plain[:varied_of]:
        scored += [(score(v), f"{name} + {variant}", v) for variant, v in variants.items()]
    scored.sort(key=lambda s: s[0])
    return [(source, params, value) for value, source, params in scored[:k]]
