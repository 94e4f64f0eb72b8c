"""The inverse model: a timm backbone (whole, or a frozen pretrained trunk plus a small trained conv
head), a shared neck, and one head per kind of target."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from core.inverse.backbone import create_backbone
from core.inverse.encoding import BOOLEANS, CATEGORICALS, N_CONTINUOUS


@dataclass
class ModelConfig:
    """Everything needed to rebuild the network (stored in checkpoints beside the weights)."""

    backbone: str = "resnet18"
    input_size: int = 128
    neck: int = 512
    dropout: float = 0.1
    # leading backbone stages kept frozen (stem + this many blocks / resnet layers) in a whole backbone
    frozen_stages: int = 0
    # > 0: keep only the stem + this many stages as a frozen trunk and learn a small conv head on its
    # feature map instead of the rest of the backbone. The trunk's output can then be cached once per
    # image, which is what makes training on a CPU affordable (see train_inverse --cache-features).
    trunk_stages: int = 0
    head_channels: int = 256
    # fine-tune the trunk too (second stage, after the head has been trained on cached features)
    train_trunk: bool = False
    # with trunk_stages: this many further backbone stages, pretrained and trained, between the (cached,
    # frozen) trunk and the conv head. The trunk's early stages see edges, which line art shares with
    # ImageNet; the later ones adapt to it, at a cost a CPU can still afford on cached features.
    tail_stages: int = 0
    backbone_kwargs: dict[str, Any] = field(default_factory=dict)
    # the layer setting the model was trained for (informational: "0", "0-1", "sampler")
    n_layers: str = "0"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class Outputs(dict):
    """Model outputs: "continuous" (B, N), "classes" {name: (B, K) logits}, "flags" (B, F) logits."""


def stem_and_stages(backbone: nn.Module, stages: int) -> list[nn.Module]:
    """The stem and first `stages` stages of a timm EfficientNet/MobileNet (`blocks`) or ResNet (`layerN`)."""
    if stages <= 0:
        return []
    children = dict(backbone.named_children())
    if "blocks" in children:
        stem = [m for name, m in children.items() if name in ("conv_stem", "bn1")]
        return stem + list(children["blocks"][:stages])
    if "layer1" in children:
        stem = [m for name, m in children.items() if name in ("conv1", "bn1", "act1", "maxpool")]
        return stem + [children[f"layer{i}"] for i in range(1, stages + 1) if f"layer{i}" in children]
    raise ValueError(f"stage splitting is not supported for {type(backbone).__name__} backbones")


def _output_shape(module: nn.Module, size: int) -> torch.Size:
    """Output shape for one zero image (timm's `num_features` is pre-head for some, e.g. MobileNetV3)."""
    was_training = module.training
    module.eval()
    with torch.no_grad():
        shape = module(torch.zeros(1, 3, size, size)).shape
    module.train(was_training)
    return shape


def conv_head(channels: int, width: int, spatial: int) -> nn.Sequential:
    """Trunk map (channels × spatial²) → flat features keeping a 4×4 layout (where the light falls is
    itself a target): a 3×3 conv, then stride-2 3×3 convs until the map is at most 4×4 wide."""
    layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1, bias=False)]
    layers += [nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
    while spatial > 4:
        layers += [nn.Conv2d(width, width, 3, stride=2, padding=1, bias=False)]
        layers += [nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
        spatial = (spatial + 1) // 2
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(4), nn.Flatten())


class InverseModel(nn.Module):
    """image (B, 3, S, S), ImageNet-normalised → continuous targets, class logits, boolean logits."""

    def __init__(self, config: ModelConfig, pretrained: bool = False) -> None:
        super().__init__()
        self.config = config
        backbone = create_backbone(config.backbone, pretrained=pretrained, **config.backbone_kwargs)
        self.tail: nn.Module = nn.Identity()
        if config.trunk_stages > 0:
            stages = stem_and_stages(backbone, config.trunk_stages + config.tail_stages)
            split = len(stages) - config.tail_stages
            self.backbone = nn.Sequential(*stages[:split])
            if config.tail_stages:
                self.tail = nn.Sequential(*stages[split:])
            shape = _output_shape(nn.Sequential(self.backbone, self.tail), config.input_size)
            self.head = conv_head(shape[1], config.head_channels, shape[-1])
            features = config.head_channels * 16
            self.frozen: list[nn.Module] = [] if config.train_trunk else [self.backbone]
        else:
            self.backbone, self.head = backbone, nn.Identity()
            features = _output_shape(self.backbone, config.input_size)[-1]
            self.frozen = stem_and_stages(self.backbone, config.frozen_stages)
        for module in self.frozen:
            module.requires_grad_(False)
        self.neck = nn.Sequential(nn.Linear(features, config.neck), nn.GELU(), nn.Dropout(config.dropout))
        self.continuous = nn.Linear(config.neck, N_CONTINUOUS)
        self.classes = nn.ModuleDict({k: nn.Linear(config.neck, len(v)) for k, v in CATEGORICALS.items()})
        self.flags = nn.Linear(config.neck, len(BOOLEANS))

    def train(self, mode: bool = True) -> InverseModel:
        """As nn.Module.train, but frozen stages stay in eval mode (their BatchNorm statistics fixed)."""
        super().train(mode)
        for module in self.frozen:
            module.eval()
        return self

    def trunk(self, images: torch.Tensor) -> torch.Tensor:
        """The backbone's output (the frozen trunk's feature map when trunk_stages > 0)."""
        return self.backbone(images)

    def from_trunk(self, features: torch.Tensor) -> Outputs:
        """The heads' outputs from `trunk(images)` (cached trunk features train only this part)."""
        h = self.neck(self.head(self.tail(features)))
        return Outputs(
            continuous=self.continuous(h),
            classes={k: head(h) for k, head in self.classes.items()},
            flags=self.flags(h),
        )

    def forward(self, images: torch.Tensor) -> Outputs:
        return self.from_trunk(self.trunk(images))
