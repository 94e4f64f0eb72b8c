"""Training data: pre-rendered tar shards in memory, or fresh renders streamed from DataLoader workers.

Both yield (image (3, S, S) normalised tensor, targets dict) pairs with `core.inverse.encode` targets;
augmentation (train only) happens in the DataLoader workers.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from core.inverse.encoding import BOOLEANS, CATEGORICALS, encode
from core.inverse.preprocess import frame_square, normalise
from core.progress import progress_bar
from train.augment import AugmentConfig, augment
from train.seeds import TRAIN_STREAM_BASE
from train.shards import damaged, list_shards, read_shard

DEFAULT_AUGMENT = AugmentConfig()


def targets_of(params: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Tensors of one sample's targets: continuous, mask, one int per categorical, flags."""
    t = encode(params)
    out = {"continuous": torch.from_numpy(t.continuous), "mask": torch.from_numpy(t.mask)}
    out.update({f"class.{k}": torch.tensor(t.classes[k]) for k in CATEGORICALS})
    out["flags"] = torch.tensor([t.flags[k] for k in BOOLEANS], dtype=torch.float32)
    return out


def to_tensor(image: np.ndarray, size: int) -> torch.Tensor:
    """uint8 render → the model input (re-framed if it was rendered at another size)."""
    if image.shape[0] != size or image.shape[1] != size:
        return normalise(frame_square(image, size))
    return normalise(image.astype(np.float32) / np.float32(255.0))


def whole_shards(root: Path) -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    """The samples of every shard under `root`, each shard checked against the count its manifest implies
    (ShardError): a truncated shard used to be read silently, 45 of its 48 samples."""
    try:
        manifest = json.loads((root / "manifest.json").read_text())
        n, size = int(manifest["n"]), int(manifest["shard_size"])
    except (OSError, ValueError, KeyError, TypeError):
        n = size = 0  # no manifest (shards made elsewhere): read as they are
    for shard in list_shards(root):
        count = 0
        for sample in read_shard(shard):
            count += 1
            yield sample
        index = int(shard.stem.rsplit("-", 1)[1])
        expected = min(size, n - index * size) if size else count
        if count != expected:
            raise damaged(shard, f"{count} of its {expected} samples")


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


class ShardDataset(Dataset):
    """All samples of the shards under `roots`, decoded once into one uint8 array (fast epochs)."""

    def __init__(
        self,
        roots: Sequence[Path | str],
        size: int,
        augment_cfg: AugmentConfig | None = None,
        limit: int | None = None,
        seed: int = 0,
    ) -> None:
        encoded, params = [], []
        every = (sample for root in roots for sample in whole_shards(Path(root)))
        # 160k samples take about a minute to read
        with progress_bar(desc="read shards", unit="sample", total=limit, leave=False) as bar:
            for _key, png, record in itertools.islice(every, limit):  # limit None: all
                encoded.append(png)
                params.append(record["params"])
                bar.update(1)
        if not encoded:
            raise FileNotFoundError(f"no shard-*.tar samples under {list(map(str, roots))}")
        # decoded straight into one array: a list of per-image arrays and its np.stack held every
        # image twice (160k samples at 128²: 16 GB at the peak instead of 8 GB)
        first = _decode(encoded[0])
        self.images = np.empty((len(encoded), *first.shape), np.uint8)
        for i, png in enumerate(progress_bar(encoded, desc="decode", unit="img", leave=False)):
            image = first if i == 0 else _decode(png)
            if image.shape != first.shape:
                raise ValueError(f"sample {i} is {image.shape}, the first {first.shape}: mixed shard sizes")
            self.images[i] = image
        del encoded
        self.params = params
        self.targets = [targets_of(p) for p in params]
        self.size, self.augment_cfg, self.seed, self.epoch = size, augment_cfg, seed, 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image = self.images[i]
        if self.augment_cfg is not None:
            rng = np.random.default_rng((self.seed, self.epoch, i))
            image = augment(image, rng, self.augment_cfg)
        return to_tensor(image, self.size), self.targets[i]


class RenderStream(IterableDataset):
    """Endless fresh renders: chunk c is `sample_params(chunk, TRAIN_STREAM_BASE + c)`.

    Chunks are dealt to (rank, worker) pairs round-robin from `start_chunk`, so no two workers or
    ranks ever draw the same scene and a resumed run starts on chunks it has not seen.
    """

    def __init__(
        self,
        size: int,
        mode: str = "weighted",
        n_layers: Any = 0,
        augment_cfg: AugmentConfig | None = DEFAULT_AUGMENT,
        chunk: int = 64,
        start_chunk: int = 0,
        rank: int = 0,
        world: int = 1,
        renderer: str = "local",
        render_size: int | None = None,
    ) -> None:
        self.size, self.mode, self.n_layers, self.augment_cfg = size, mode, n_layers, augment_cfg
        self.chunk, self.start_chunk, self.rank, self.world = chunk, start_chunk, rank, world
        self.renderer, self.render_size = renderer, render_size or size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
        from core.params import sample_params
        from core.render import get_renderer

        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        renderer = get_renderer(self.renderer, quality="fast") if self.renderer == "local" else None
        renderer = renderer or get_renderer(self.renderer)
        c = self.start_chunk + self.rank * workers + worker
        while True:
            seed = TRAIN_STREAM_BASE + c
            rng = np.random.default_rng(seed)
            for p in sample_params(self.chunk, seed, mode=self.mode, n_layers=self.n_layers):
                image = renderer.render(p, self.render_size, self.render_size)
                if self.augment_cfg is not None:
                    image = augment(image, rng, self.augment_cfg)
                yield to_tensor(image, self.size), targets_of(p)
            c += self.world * workers


def render_set(
    n: int, seed: int, size: int, mode: str = "weighted", n_layers: Any = 0, renderer: str = "local"
) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]], list[dict[str, Any]], np.ndarray]:
    """A fixed clean set (validation / evaluation): inputs, targets, params and the uint8 renders."""
    from core.params import sample_params
    from core.render import get_renderer

    r = get_renderer(renderer, quality="fast") if renderer == "local" else get_renderer(renderer)
    params = sample_params(n, seed, mode=mode, n_layers=n_layers)
    with progress_bar(params, desc="render the set", unit="img", leave=False) as bar:  # 1000 renders: ≈ 10 s
        images = np.stack([r.render(p, size, size) for p in bar])
    inputs = torch.stack([to_tensor(im, size) for im in images])
    return inputs, [targets_of(p) for p in params], params, images
