"""Cached trunk features: run a frozen pretrained trunk once per image, then train only the head.

On a shared CPU the trunk's forward pass is most of the cost of a training step; with a frozen trunk
(`ModelConfig.trunk_stages`) its output for an image never changes, so it is computed once (fp16,
in chunks of `CHUNK` samples under `<dir>/`, so an interrupted cache resumes) and every epoch after
that costs only the small head. The price: each training image keeps the one augmentation draw it
was cached with.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from core.atomic import atomic_file, write_text_atomic
from core.inverse.model import InverseModel
from core.progress import progress_bar
from train.settings import differences

CHUNK = 1000


@torch.inference_mode()
def trunk_features(model: InverseModel, inputs: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """fp16 trunk outputs of preprocessed inputs (N, 3, S, S)."""
    model.eval()
    device = next(model.parameters()).device
    parts = [
        model.trunk(inputs[i : i + batch_size].to(device)).half().cpu()
        for i in range(0, len(inputs), batch_size)
    ]
    return torch.cat(parts)


SOURCE = "source.json"
"""What a cache folder's features were computed from (`cache_source`): checked on every use."""


class StaleCacheError(ValueError):
    """A cache folder made from other data or another trunk than the run asks for."""


def cache_source(model: InverseModel, data: list[str], n: int, augment: bool, seed: int) -> dict[str, Any]:
    """Everything that decides a cached feature: the trunk and what it read (augmentation draws too)."""
    c = model.config
    trunk = {"backbone": c.backbone, "trunk_stages": c.trunk_stages, "input_size": c.input_size}
    return {**trunk, "data": [str(Path(d).resolve()) for d in data], "n": n, "augment": augment, "seed": seed}


def check_source(folder: Path, source: dict[str, Any]) -> str | None:
    """Record `source` in a new cache folder; refuse one made from another (StaleCacheError). A folder made
    before the record existed is taken as it is, with a note (returned) — it used to be matched by file
    names alone, so a cache of other shards trained the head on their features against these targets."""
    stamp = folder / SOURCE
    if stamp.exists():
        earlier = json.loads(stamp.read_text())
        if earlier != source:
            raise StaleCacheError(
                f"--cache-features {folder} holds features of other inputs ({differences(earlier, source)}): "
                "give another folder"
            )
        return None
    note = None
    if any(folder.glob("feats-*.pt")):
        note = (
            f"{folder} does not say what its features were made from (an older cache): taken as these inputs'"
        )
    write_text_atomic(stamp, json.dumps(source))
    return note


def cache_dataset(
    model: InverseModel,
    dataset: Dataset,
    folder: Path,
    batch_size: int = 64,
    source: dict[str, Any] | None = None,
) -> torch.Tensor:
    """Trunk features of every dataset item (augmented as the dataset does), resumable chunk by chunk;
    `source` (cache_source) is checked against the folder's record first."""
    folder.mkdir(parents=True, exist_ok=True)
    if source is not None and (note := check_source(folder, source)):
        print(f"note: {note}", file=sys.stderr)
    n = len(dataset)  # type: ignore[arg-type]
    chunks = []
    bar = progress_bar(total=n, desc="cache trunk features", unit="img")
    for start in range(0, n, CHUNK):
        path = folder / f"feats-{start:07d}-{min(n, start + CHUNK):07d}.pt"
        if path.exists():
            chunks.append(torch.load(path, weights_only=True))
        else:
            inputs = torch.stack([dataset[i][0] for i in range(start, min(n, start + CHUNK))])
            feats = trunk_features(model, inputs, batch_size)
            with atomic_file(path) as handle:
                torch.save(feats, handle)
            chunks.append(feats)
        bar.update(len(chunks[-1]))
    bar.close()
    return torch.cat(chunks)


class FeatureDataset(Dataset):
    """(cached trunk features, targets) pairs; features go to `InverseModel.from_trunk`."""

    def __init__(self, features: torch.Tensor, targets: list[dict[str, torch.Tensor]]) -> None:
        if len(features) != len(targets):
            raise ValueError(f"{len(features)} cached features for {len(targets)} samples: stale cache?")
        self.features, self.targets = features, targets

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.features[i].float(), self.targets[i]
