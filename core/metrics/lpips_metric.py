"""LPIPS (AlexNet) perceptual distance, loaded only when its ImageNet backbone weights are on this machine.

The `lpips` package builds its AlexNet trunk through torchvision, which downloads ImageNet weights into the
torch hub cache on first use. Offline that would fail or hang, so the cache file is checked BEFORE the
model is built: when it is absent LPIPS is reported unavailable with a reason, never replaced by a made-up
number. The calibrated linear layers ship inside the `lpips` package itself.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.device import pick_device

if TYPE_CHECKING:
    import torch

ALEXNET_CHECKPOINT = "alexnet-owt-7be5be79.pth"
"""File name torchvision caches AlexNet_Weights.IMAGENET1K_V1 under (the basename of its download URL)."""

RANDOM_SEED = 0
"""Seed of the random AlexNet trunk built by `load_lpips(random_weights=True)`."""


class LpipsUnavailable(RuntimeError):
    """LPIPS cannot be computed on this machine; the message is a one-line reason for reports."""


def alexnet_checkpoint_path() -> Path:
    """Where torchvision looks for (and would download) the AlexNet ImageNet weights."""
    return torch_hub_dir() / "checkpoints" / ALEXNET_CHECKPOINT


def torch_hub_dir() -> Path:
    """`torch.hub.get_dir()`, without importing torch (about 1 s) when it is not loaded yet.

    torch.hub.set_dir() can only have been called once torch is imported; before that the directory
    follows torch's documented environment rule, $TORCH_HOME/hub with TORCH_HOME defaulting to
    $XDG_CACHE_HOME/torch and XDG_CACHE_HOME to ~/.cache.
    """
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "hub"):
        return Path(torch.hub.get_dir())
    return _hub_dir_from_env()


def _hub_dir_from_env() -> Path:
    cache = os.getenv("XDG_CACHE_HOME", "~/.cache")
    return Path(os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(cache, "torch")))) / "hub"


def load_lpips(*, random_weights: bool = False, device: str | None = None) -> torch.nn.Module:
    """The LPIPS(net="alex") model in eval mode on `pick_device(device)`, cached per (weights, device).

    random_weights=True is a test hook: the AlexNet trunk gets seeded random weights instead of ImageNet
    ones, so the code path can be exercised offline. Its distances are meaningless; never report them.

    Raises LpipsUnavailable when the ImageNet weights are not in the torch hub cache (nothing is ever
    downloaded) or the model cannot be built.
    """
    if not random_weights:
        checkpoint = alexnet_checkpoint_path()
        if not checkpoint.is_file():
            raise LpipsUnavailable(
                f"LPIPS unavailable: AlexNet ImageNet weights not found in {checkpoint.parent} "
                f"(no download possible offline); copy {ALEXNET_CHECKPOINT} there to enable"
            )
    return _build(random_weights, str(pick_device(device)))


def clear_lpips_cache() -> None:
    """Drop cached LPIPS models (frees their memory; the next call rebuilds and re-checks the weights)."""
    _build.cache_clear()


@functools.cache
def _build(random_weights: bool, device: str) -> torch.nn.Module:
    import lpips
    import torch

    try:
        with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
            # lpips still passes torchvision's deprecated `pretrained=` argument.
            warnings.simplefilter("ignore", UserWarning)
            torch.manual_seed(RANDOM_SEED)
            model = lpips.LPIPS(net="alex", pnet_rand=random_weights, verbose=False)
    except Exception as exc:
        raise LpipsUnavailable(f"LPIPS unavailable: model could not be built ({_one_line(exc)})") from exc
    return model.eval().requires_grad_(False).to(device)


def lpips_distance(a: np.ndarray, b: np.ndarray, *, model: torch.nn.Module | None = None) -> float:
    """LPIPS distance (>= 0, 0 = identical) between two same-sized (H, W, 3) RGB float arrays in [0, 1].

    The images are scaled to [-1, 1] as LPIPS expects. Each side needs at least ~32 px for AlexNet's
    pooling. `model` defaults to `load_lpips()` (raises LpipsUnavailable offline).
    """
    if np.shape(a) != np.shape(b) or np.ndim(a) != 3 or np.shape(a)[2] != 3:
        raise ValueError(
            f"lpips needs two (H, W, 3) images of the same size, got {np.shape(a)} and {np.shape(b)}"
        )
    model = model if model is not None else load_lpips()
    import torch

    device = next(model.parameters()).device
    with torch.inference_mode():
        pair = [_to_tensor(image, device) for image in (a, b)]
        return float(model(*pair).item())


def lpips_or_reason(a: np.ndarray, b: np.ndarray) -> tuple[float | None, str | None]:
    """(distance, None) when LPIPS works here, else (None, one-line reason); never raises."""
    try:
        return lpips_distance(a, b), None
    except LpipsUnavailable as exc:
        return None, str(exc).strip().replace("\n", " ")
    except Exception as exc:  # a report must still come back; say what went wrong instead
        return None, f"LPIPS failed: {_one_line(exc)}"


def _to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, 3) [0, 1] array -> (1, 3, H, W) float32 tensor in [-1, 1] on `device`."""
    import torch

    chw = np.ascontiguousarray(np.asarray(image, dtype=np.float32).transpose(2, 0, 1))
    return (torch.from_numpy(chw).to(device) * 2.0 - 1.0).unsqueeze(0)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
