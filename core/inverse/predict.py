"""Image → flat SceneParams, with the top-k alternatives of every categorical for refinement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from core.inverse.encoding import BOOLEANS, CATEGORICALS, decode
from core.inverse.model import InverseModel
from core.inverse.preprocess import to_input
from core.params.js import is_whole


@dataclass
class Prediction:
    """params: complete flat SceneParams (passes `core.params.validate`).

    alternatives: {categorical: [(option, probability), ...]} best first, top_k long.
    flags: {boolean: probability of True}.
    """

    params: dict[str, Any]
    alternatives: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    flags: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "alternatives": {k: [[o, p] for o, p in v] for k, v in self.alternatives.items()},
            "flags": self.flags,
        }


@torch.inference_mode()
def predict_batch(model: InverseModel, batch: torch.Tensor, top_k: int = 3) -> list[Prediction]:
    """Predictions for an already preprocessed (B, 3, S, S) batch; top_k: alternatives kept per head (≥ 1)."""
    if not is_whole(top_k) or top_k < 1:
        raise ValueError(f"top_k must be a whole number ≥ 1, got {top_k!r}")  # 0 and −1 were taken as 1
    device = next(model.parameters()).device
    out = model(batch.to(device))
    cont = out["continuous"].float().cpu().numpy()
    probs = {k: torch.softmax(v.float(), dim=1).cpu().numpy() for k, v in out["classes"].items()}
    flag_p = torch.sigmoid(out["flags"].float()).cpu().numpy()
    results = []
    for i in range(len(cont)):
        classes = {k: int(np.argmax(p[i])) for k, p in probs.items()}
        flags = {name: float(flag_p[i, j]) for j, name in enumerate(BOOLEANS)}
        params = decode(cont[i], classes, {k: v > 0.5 for k, v in flags.items()})
        alternatives = {}
        for name, p in probs.items():
            order = np.argsort(-p[i])[:top_k]
            alternatives[name] = [(CATEGORICALS[name][j], float(p[i, j])) for j in order]
        results.append(Prediction(params, alternatives, flags))
    return results


def predict(model: InverseModel, image: Any, top_k: int = 3) -> Prediction:
    """Predict the parameters of one image: a path, bytes, PIL image or array of any size, mode, depth.

    Bad inputs raise `core.imageio.ImageInputError` with the reason. The model should be in eval mode
    (`load_model` returns it so).
    """
    check_model(model)
    return predict_batch(model, to_input(image, model.config.input_size)[None], top_k)[0]


def check_model(model: Any) -> None:
    """TypeError unless `model` is a loaded InverseModel: a checkpoint's path used to fail as "'str' object
    has no attribute 'config'"."""
    if not isinstance(model, InverseModel):
        raise TypeError(
            f"model must be an InverseModel (core.inverse.load_model(path) loads one), "
            f"not {type(model).__name__}"
        )
