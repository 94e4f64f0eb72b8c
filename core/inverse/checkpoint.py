"""Checkpoint I/O: one file holding the model config, the weights (fp16 to stay small) and metadata."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from core.atomic import atomic_file
from core.inverse.model import InverseModel, ModelConfig
from core.paths import PROJECT_ROOT

DEFAULT_CHECKPOINT = PROJECT_ROOT / "models" / "inverse.pt"
FORMAT = "bb-inverse/1"


class CheckpointError(RuntimeError):
    """A checkpoint is missing or is not an inverse-model checkpoint."""


def save_checkpoint(
    model: InverseModel,
    path: str | os.PathLike[str],
    *,
    half: bool = True,
    meta: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write config + state dict atomically. half: store float weights as fp16 (halves the size).

    `meta` is small JSON-able information (data, metrics); `extra` holds resume state (optimiser ...)
    and is only worth keeping in training checkpoints.
    """
    state = {k: (v.half() if half and v.is_floating_point() else v) for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "config": model.config.to_dict(), "state_dict": state, "meta": meta or {}}
    if extra:
        payload["extra"] = extra
    with atomic_file(path) as handle:
        torch.save(payload, handle)
    return Path(path)


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The raw payload of a checkpoint (config, state_dict, meta, maybe extra)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"no inverse-model checkpoint at {path}: train one with `python -m train.train_inverse` "
            "or pass the path of an existing one"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises pickle, zip and runtime errors for damaged files
        raise CheckpointError(f"{path} could not be read as a checkpoint ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an inverse-model checkpoint (format {FORMAT!r} expected)")
    return payload


def load_model(
    path: str | os.PathLike[str] | None = None, device: str | torch.device | None = None
) -> InverseModel:
    """The model of a checkpoint (default: models/inverse.pt), in eval mode, float32, on `device`.

    device: None picks one with `core.device.pick_device` (BB_DEVICE respected).
    """
    from core.device import pick_device

    payload = read_checkpoint(DEFAULT_CHECKPOINT if path is None else path)
    model = InverseModel(ModelConfig.from_dict(payload["config"]), pretrained=False)
    model.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}
    )
    model.meta = payload.get("meta", {})  # type: ignore[attr-defined]
    target = device if isinstance(device, torch.device) else pick_device(device)
    return model.float().eval().to(target)
