"""Which torch device to compute on: one rule for the whole library, so a machine with a GPU uses it and a
laptop or CI box falls back without code changes. torch is imported only when a device is asked for."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

ENV_VAR = "BB_DEVICE"
"""Environment variable naming the device ("cuda", "cuda:1", "mps", "cpu" or "auto")."""

_KINDS = ("cuda", "mps", "cpu")


class DeviceUnavailableError(RuntimeError):
    """A device was asked for by name but this machine (or this torch build) does not have it."""


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """The torch device to use: `preferred` if given, else $BB_DEVICE if set, else the best available.

    Precedence: an explicit `preferred` (e.g. a --device flag) > the BB_DEVICE environment variable >
    automatic choice (cuda, then mps, then cpu). "auto" or "" mean automatic at either level. A named
    device that is not available raises DeviceUnavailableError rather than silently running elsewhere;
    an unknown name raises ValueError.
    """
    import torch

    source = "the preferred argument"
    # a torch.device is read by its name: passed through, "cuda" without a driver was torch's own error
    choice = (str(preferred) if preferred is not None else "").strip().lower()
    if choice in ("", "auto"):
        source = ENV_VAR
        choice = os.environ.get(ENV_VAR, "").strip().lower()
    if choice in ("", "auto"):
        return torch.device(available_devices()[0])

    try:
        device = torch.device(choice)
    except RuntimeError as exc:
        raise ValueError(
            f"device {choice!r} (from {source}) is not a device name; expected one of {_KINDS} or 'auto'"
        ) from exc
    if device.type not in _KINDS:
        raise ValueError(
            f"device {choice!r} (from {source}) is not supported; expected one of {_KINDS} or 'auto'"
        )
    if not _is_available(device):
        raise DeviceUnavailableError(
            f"device {choice!r} (from {source}) is not available here "
            f"(torch {torch.__version__}; available: {', '.join(available_devices())})"
        )
    return device


def available_devices() -> list[str]:
    """Device kinds usable on this machine, best first; always ends with "cpu"."""
    import torch

    kinds = []
    if torch.cuda.is_available():
        kinds.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        kinds.append("mps")
    kinds.append("cpu")
    return kinds


def _is_available(device: torch.device) -> bool:
    """Whether `device` (including its index, for cuda) can be used."""
    import torch

    if device.type not in available_devices():
        return False
    if device.type == "cuda" and device.index is not None:
        return device.index < torch.cuda.device_count()
    return True


def device_argument(text: str) -> str:
    """An argparse type for --device: the name when this machine has it ("" or "auto": the best there
    is), else argparse's one-line error naming what is available (it was a traceback after the parse)."""
    import argparse

    try:
        pick_device(text or "auto")
    except (ValueError, DeviceUnavailableError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
