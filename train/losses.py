"""The training loss (one term per head) and validation metrics in natural units."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from core.inverse.encoding import BOOLEANS, CATEGORICALS, natural_errors

CONTINUOUS_WEIGHT = 5.0  # the continuous term is a mean over ~25 values: weigh it like several heads
LABEL_SMOOTHING = 0.05


def head_losses(out: Mapping, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """{head: scalar loss}: masked smooth-L1 for continuous, CE per categorical, BCE for booleans."""
    mask = batch["mask"]
    cont = F.smooth_l1_loss(out["continuous"], batch["continuous"], reduction="none", beta=0.1)
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
