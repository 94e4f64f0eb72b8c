"""First guesses for a target: the CNN's prediction, its runner-up categoricals, the retrieval bank's
nearest scenes and the best motif scenes (core.inverse.motifs), each rendered and scored with
refinement's loss, best first.

Why render-and-score: the CNN's heads and the bank's coarse thumbnails are both cheap proxies; a render at
the loss's working size (≈ 3 ms each) says which guess really looks most like the target, and the ranked
list is what multi-start refinement races.

The best few are then varied where refinement cannot walk, and the variants ranked with the rest: each
symmetry about the centre (a layer's signs are fixed per start), moved onto the target's light (image
registration; CMA-ES takes small steps), turned and zoomed a little, and every one-categorical change.
On 12 held-out synthetic targets and the 4 references the moves (shift, pose, categoricals) took the
median loss of the best guess from 0.568 (symmetries only) to 0.511, in ≈ 0.5–1.5 s per target on 2 cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.imageio import to_rgb_float
from core.inverse.concentric import concentric_fits, stroke_variants
from core.inverse.model import InverseModel
from core.inverse.motifs import MOTIF_STARTS, best_motifs
from core.inverse.predict import Prediction, predict
from core.inverse.retrieval import RetrievalBank
from core.params import identity, validate
from core.refine.alternatives import alternative_starts, category_swaps, symmetry_variants
from core.refine.evaluate import Evaluator, Scorer
from core.refine.loss import DEFAULT_WIDTH, make_loss
from core.refine.pose import aligned, pose_variants
from core.refine.supersample import resolved_supersample

RACE_STARTS = 8
"""Guesses multi-start refinement races (`Guess.race`): the app, `train.validate` and the benchmark.
Measured at the default budget (benchmarks/refine.py --race, seeds 0 and 1): 8 against 4 took the seed-mean
median lum_corr of 20 held-out synthetic targets from 0.924 to 0.938 (ssim_skill 0.39 → 0.47) and ref.png's
from 0.76 / 0.77 to 0.91 / 0.89; figma-00's fell (0.78 / 0.76 → 0.74 / 0.73)."""


@dataclass
class Guess:
    """starts: every distinct guess, best first; losses and sources align with it."""

    starts: list[dict[str, Any]]
    losses: list[float]
    sources: list[str]
    prediction: Prediction

    @property
    def params(self) -> dict[str, Any]:
        """The best guess."""
        return self.starts[0]

    def race(self, k: int = RACE_STARTS) -> list[dict[str, Any]]:
        """The k starts for multi-start refinement: the best guess, the CNN's own prediction (a bank scene
        that shares the target's coarse light may still have the wrong structure), then the next best.
        Measured on 20 held-out synthetic targets (benchmarks/refine.py): mean ssim / lum_corr 0.859 /
        0.872 after refining, against 0.842 / 0.852 when alternating bank and CNN-family starts."""
        return [self.starts[i] for i in self.race_indices(k)]

    def race_indices(self, k: int = RACE_STARTS) -> list[int]:
        """Indices into starts/sources/losses of `race(k)`. A motif scene races only as the best guess:
        a trail is a smooth family that leads the race's early rounds at the working size and ends worse
        at the report's. On ref.png a motif start raced from 4th place won, and the match fell from ssim
        0.69 / 0.62 (seeds 0 / 1) to 0.62 / 0.51."""
        allowed = [i for i in range(len(self.starts)) if i == 0 or not self.sources[i].startswith("motif")]
        chosen = [0]
        if "cnn" in self.sources and self.sources.index("cnn") not in chosen:
            chosen.append(self.sources.index("cnn"))
        scenes = {_scene(self.sources[i]) for i in chosen}
        for i in allowed:  # one start per scene first: its symmetry variants are near-twins
            if i not in chosen and _scene(self.sources[i]) not in scenes:
                chosen.append(i)
                scenes.add(_scene(self.sources[i]))
        chosen += [i for i in allowed if i not in chosen]
        return chosen[: max(1, k)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "source": self.sources[0],
            "ranked": [
                {"source": s, "loss": round(v, 4)} for s, v in zip(self.sources, self.losses, strict=True)
            ],
            "cnn": self.prediction.to_dict(),
        }


def _scene(source: str) -> str:
    """The scene a guess came from, without its variants ("bank 1/2 + 180° rotation" → "bank 1/2")."""
    return source.split(" + ")[0]


def guess(
    model: InverseModel,
    image: Any,
    bank: RetrievalBank | None = None,
    *,
    k_neighbours: int = 16,
    top_k: int = 3,
    loss: str = "ssim_lum",
    working_width: int = DEFAULT_WIDTH,
    quality: str = "fast",
    prediction: Prediction | None = None,
    symmetric_of: int = 4,
    aligned_of: int = 4,
    posed_of: int = 2,
    swapped_of: int = 2,
    supersample: int | None = None,
    motifs: int = MOTIF_STARTS,
    workers: int = 1,
    shared_pool: bool = False,
) -> Guess:
    """The CNN's prediction plus (k−1) single-categorical swaps of it, plus `k_neighbours` bank scenes
    (none when bank is None), ranked by `loss` on renders at `working_width`. `prediction`: the CNN's
    reading of this image with top_k alternatives when the caller has it already (not run again).
    The best `symmetric_of` are also scored in each symmetry about the frame's centre (a mirror copy
    either way, a 180° copy, no copy: core.refine.alternatives.symmetry_variants), which refinement
    cannot reach from a start drawn with another. The best `aligned_of` are also scored shifted so their
    light lies over the target's (core.refine.pose: image registration, then the scene moved), and the
    best `posed_of` turned and zoomed a little as well, each shifted again, and the best `swapped_of`
    with each one-categorical change. `motifs`: how many of the best motif scenes (core.inverse.motifs:
    anchored trails, which neither the CNN nor the bank reach) join the ranking, with the concentric
    rings or nested squares measured on the target (core.inverse.concentric); 0: none. supersample:
    as core.refine.Refiner's, None choosing alike (the same renders rank the starts as the refinement will
    score them). workers, shared_pool: processes that score the motifs (most of the renders), and whether
    they are the process's shared pool (core.shared_pool), as core.refine.Refiner's; the same guess
    either way."""
    if bank is not None and not isinstance(bank, RetrievalBank):  # a path failed: no attribute 'neighbours'
        raise TypeError(
            f"bank must be a RetrievalBank (core.inverse.retrieval.load_bank loads one), "
            f"not {type(bank).__name__}"
        )
    if k_neighbours < 0:
        raise ValueError(f"k_neighbours must be ≥ 0, got {k_neighbours}")
    target = to_rgb_float(image)
    if prediction is None:
        prediction = predict(model, target, top_k=top_k)
    candidates: list[tuple[str, dict[str, Any]]] = [("cnn", prediction.params)]
    for alt in alternative_starts(prediction.params, prediction.alternatives, k=top_k)[1:]:
        changed = [k for k in alt if alt[k] != prediction.params.get(k)]
        candidates.append(("cnn, " + ", ".join(f"{k}={alt[k]}" for k in changed), alt))
    if bank is not None:
        for n in bank.neighbours(target, k_neighbours):
            candidates.append(
                (f"bank {n.key[0]}/{n.key[1]} (similarity {n.similarity:.2f})", validate(n.params))
            )
    scorer = Scorer(
        make_loss(loss, target, working_width),
        quality,
        resolved_supersample(supersample, target, working_width),
    )
    scored: list[tuple[float, int, str, dict[str, Any]]] = []
    seen: set[str] = set()

    def score(pairs: list[tuple[str, dict[str, Any]]], values: list[float] | None = None) -> None:
        """Rank `pairs` in; `values`: their losses when the caller has scored them already."""
        for i, (source, params) in enumerate(pairs):
            key = identity(params)
            if key not in seen:
                seen.add(key)
                value = scorer(params) if values is None else values[i]
                scored.append((value, len(scored), source, params))
        scored.sort(key=lambda s: (s[0], s[1]))

    score(candidates)
    best = scored[:symmetric_of]
    score([(f"{source} + {name}", v) for _, _, source, p in best for name, v in symmetry_variants(p)])
    score([(f"{source} + shifted", aligned(scorer, p)) for _, _, source, p in scored[:aligned_of]])
    score(
        [(f"{source} + {n}", v) for _, _, source, p in scored[:posed_of] for n, v in pose_variants(scorer, p)]
    )
    score([(f"{source} + {n}", v) for _, _, source, p in scored[:swapped_of] for n, v in category_swaps(p)])
    # after the variants: the motifs bring their own symmetries, and would otherwise take the bank's
    # place in the stages above (ref.png's race lost its best bank scene's mirror variant that way)
    with Evaluator(scorer, workers, shared=shared_pool) as evaluator:
        found = best_motifs(scorer, motifs, evaluator=evaluator)
    score([(source, p) for source, p, _ in found], [value for _, _, value in found])
    score([(f"{source} + shifted", aligned(scorer, p)) for source, p, _ in found[:aligned_of]])
    if motifs > 0:  # concentric outlines: measured, not searched for
        for fit in concentric_fits(target):
            score([(f"{fit.source}{name}", p) for name, p in stroke_variants(fit.params)])
    return Guess(
        starts=[s[3] for s in scored],
        losses=[s[0] for s in scored],
        sources=[s[2] for s in scored],
        prediction=prediction,
    )
