"""The training loss (one term per head) and validation metrics in natural units."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from core.inverse.encoding import BOOLEANS, CATEGORICALS, CONTINUOUS, CONTINUOUS_NAMES, natural_errors

CONTINUOUS_WEIGHT = 5.0  # the continuous term is a mean over ~25 values: weigh it like several heads
LABEL_SMOOTHING = 0.05

BASIN_RISE = {
    "rotation": 0.42,
    "layer.rotation": 0.18,
    "stepFactor": 0.15,
    "scale": 0.15,
    "scaleFactor": 0.13,
    **dict.fromkeys(("xStep", "yStep", "position.x", "position.y"), 0.10),
    **dict.fromkeys(("layer.position.x", "layer.position.y"), 0.10),
    **dict.fromkeys(("startAngle", "layer.scale.x", "layer.scale.y"), 0.035),
    **dict.fromkeys(("color.r", "color.g", "color.b"), 0.03),
}
"""Median rise of refinement's 160-px loss when a coordinate (a `CONTINUOUS` path) moves by 0.03 of its
range, over 20 held-out truths (benchmarks/RESULTS.md, "how narrow the basin is"); colour and layer
positions were not measured and are guesses; everything else rose by ≤ 0.007 (floored at 0.02 so it still
learns)."""


def continuous_weights(kind: str = "uniform") -> torch.Tensor:
    """Per-output weights of the continuous term, mean 1: "uniform", or "basin" (BASIN_RISE: a model's
    error costs the render most where the loss's basin is narrowest; an angle's sin and cos share one)."""
    if kind == "uniform":
        return torch.ones(len(CONTINUOUS_NAMES))
    if kind != "basin":
        raise ValueError(f"continuous weights are uniform or basin, not {kind!r}")
    w = torch.tensor([max(0.02, BASIN_RISE.get(c.path, 0.0)) for c in CONTINUOUS for _ in c.names])
    return w / w.mean()


def head_losses(
    out: Mapping, batch: Mapping[str, torch.Tensor], weights: torch.Tensor | None = None
) -> dict[str, torch.Tensor]:
    """{head: scalar loss}: masked smooth-L1 for continuous (times `weights` per output), CE per
    categorical, BCE for booleans."""
    mask = batch["mask"]
    cont = F.smooth_l1_loss(out["continuous"], batch["continuous"], reduction="none", beta=0.1)
    if weights is not None:
        cont = cont * weights.to(cont.device)
    losses = {"continuous": CONTINUOUS_WEIGHT * (cont * mask).sum() / mask.sum().clamp_min(1.0)}
    for name in CATEGORICALS:
        losses[name] = F.cross_entropy(
            out["classes"][name], batch[f"class.{name}"], label_smoothing=LABEL_SMOOTHING
        )
    losses["flags"] = F.binary_cross_entropy_with_logits(out["flags"], batch["flags"])
    return losses


class Metrics:
    """Accumulates a validation pass: loss per head, accuracy per categorical/boolean, natural errors."""

    def __init__(self) -> None:
        self.losses: dict[str, list[float]] = {}
        self.correct: dict[str, list[np.ndarray]] = {}
        self.cont: list[np.ndarray] = []
        self.true: list[np.ndarray] = []
        self.mask: list[np.ndarray] = []

    def add(
        self, out: Mapping, batch: Mapping[str, torch.Tensor], losses: Mapping[str, torch.Tensor]
    ) -> None:
        n = len(batch["mask"])
        for k, v in losses.items():
            self.losses.setdefault(k, []).extend([float(v)] * n)
        for name in CATEGORICALS:
            hit = (out["classes"][name].argmax(1) == batch[f"class.{name}"]).cpu().numpy()
            self.correct.setdefault(name, []).append(hit)
        flags = (out["flags"] > 0).float() == batch["flags"]
        for j, name in enumerate(BOOLEANS):
            self.correct.setdefault(name, []).append(flags[:, j].cpu().numpy())
        self.cont.append(out["continuous"].float().cpu().numpy())
        self.true.append(batch["continuous"].cpu().numpy())
        self.mask.append(batch["mask"].cpu().numpy())

    def summary(self) -> dict[str, dict[str, float]]:
        errors = natural_errors(
            np.concatenate(self.cont), np.concatenate(self.true), np.concatenate(self.mask)
        )
        return {
            "loss": {k: float(np.mean(v)) for k, v in self.losses.items()}
            | {"total": float(sum(np.mean(v) for v in self.losses.values()))},
            "accuracy": {k: float(np.concatenate(v).mean()) for k, v in self.correct.items()},
            "median_abs_error": {
                k: float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan") for k, v in errors.items()
            },
        }
