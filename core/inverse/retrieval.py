"""Retrieval: the rendered scenes of a bank whose coarse light layout is closest to a target's.

Why: a regression head predicts each parameter on its own, and a miss in one categorical (geometry,
progression) makes the whole render wrong. A neighbour from a bank of rendered scenes is a *coherent* set
of parameters whose image already looks like the target at low resolution: on held-out synthetic targets
the best of 16 neighbours (checked by rendering) reached a median lum_corr of ≈ 0.65, where the CPU-trained
CNN alone reached 0.13 (README, benchmarks). Refinement starts from both.

The feature is the blurred luminance thumbnail, zero-mean and unit-norm, so its dot product is the
Pearson correlation of coarse luminance — what `lum_corr` measures — compressed by PCA to `n_components`
dimensions and stored as int8. Two views per scene: "square" (32×32 of a 1:1 render) and "wide"
(32×18 of the central 16:9 band of the same render: the camera always shows 5 world units across, so a
16:9 render *is* that band). A bank stores (seed, index) per scene, not params: `sample_one` regenerates
them exactly from the sampler.
"""

from __future__ import annotations

import json
import sys
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from core.argtypes import refusal
from core.atomic import atomic_file
from core.imageio import to_rgb_float
from core.metrics.similarity import luminance
from core.paths import PROJECT_ROOT

DEFAULT_BANK = PROJECT_ROOT / "models" / "retrieval.npz"
RENDER_SIDE = 64
"""Bank scenes are rendered at RENDER_SIDE² (quality "fast"), then reduced to the views below."""
VIEWS: dict[str, tuple[int, int]] = {"square": (32, 32), "wide": (32, 18)}
"""View name → thumbnail (width, height)."""
WIDE_ASPECT = 16 / 9
VIEW_ASPECTS: dict[str, float] = {"square": 1.0, "wide": WIDE_ASPECT}
WIDE_FROM = 1.4
"""Targets at least this much wider than tall are looked up in the wide view, the rest in the square one."""
BLUR_SIGMA = 1.0
BANK_VERSION = 1


class BankError(RuntimeError):
    """A retrieval bank is missing or unreadable; the message says how to build one."""


def _resize(lum: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-average resize of a float luminance image (PIL's box filter on mode "F")."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(lum, dtype=np.float32)).resize(size, Image.BOX))


def _normalised(thumb: np.ndarray) -> np.ndarray | None:
    f = gaussian_filter(thumb, BLUR_SIGMA).ravel().astype(np.float32)
    f -= f.mean()
    norm = float(np.linalg.norm(f))
    return f / norm if norm > 1e-6 else None


def view_for(width: int, height: int) -> str:
    return "wide" if width / height >= WIDE_FROM else "square"


def _view_feature(lum: np.ndarray, view: str) -> np.ndarray | None:
    """The feature of a luminance image in `view`. An image taller than the view's aspect is cut to its
    central band: the camera shows 5 world units across, so that band is what a render at the view's
    aspect shows."""
    h, w = lum.shape
    aspect = VIEW_ASPECTS[view]
    if w / h < aspect:
        rows = max(1, round(w / aspect))
        top = (h - rows) // 2
        lum = lum[top : top + rows]
    return _normalised(_resize(lum, VIEWS[view]))


def query_feature(image: Any) -> tuple[str, np.ndarray | None]:
    """(view, feature) of any target image; the feature is None when its luminance is flat (black)."""
    lum = luminance(to_rgb_float(image))
    view = view_for(lum.shape[1], lum.shape[0])
    return view, _view_feature(lum, view)


def scene_features(render_square: np.ndarray) -> dict[str, np.ndarray | None]:
    """Both views of a RENDER_SIDE² render (a bank entry)."""
    lum = luminance(np.asarray(render_square, dtype=np.float32))
    return {view: _view_feature(lum, view) for view in VIEWS}


@dataclass(frozen=True)
class Neighbour:
    params: dict[str, Any]
    similarity: float  # cosine in the compressed feature space, ≈ the correlation of coarse luminance
    key: tuple[int, int]  # (sampler seed, index)


@dataclass
class View:
    """One view's PCA: feature → code = (f − mean) · componentsᵀ; codes stored int8 with a scale per dim."""

    mean: np.ndarray  # (d,)
    components: np.ndarray  # (k, d)
    codes: np.ndarray  # (n, k) int8
    scale: np.ndarray  # (k,)

    def unit_codes(self) -> np.ndarray:
        c = self.codes.astype(np.float32) * self.scale
        return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)


class RetrievalBank:
    """Rendered-scene bank: `neighbours(image, k)` → the k scenes whose coarse light layout is closest."""

    def __init__(self, views: dict[str, View], keys: np.ndarray, config: dict[str, Any]) -> None:
        self.views, self.keys, self.config = views, keys, config
        self._unit = {name: v.unit_codes() for name, v in views.items()}

    def __len__(self) -> int:
        return len(self.keys)

    def neighbours(self, image: Any, k: int = 16) -> list[Neighbour]:
        """The k best matches, best first; [] when the target is flat (black) and nothing can be matched."""
        view_name, feature = query_feature(image)
        if feature is None or len(self) == 0:
            return []
        view = self.views[view_name]
        q = (feature - view.mean) @ view.components.T
        q /= max(float(np.linalg.norm(q)), 1e-12)
        sims = self._unit[view_name] @ q
        top = np.argsort(-sims, kind="stable")[: max(0, k)]
        return [Neighbour(self.params_of(int(i)), float(sims[i]), self.key(int(i))) for i in top]

    def key(self, i: int) -> tuple[int, int]:
        return int(self.keys[i, 0]), int(self.keys[i, 1])

    def params_of(self, i: int) -> dict[str, Any]:
        from core.params.sampling import sample_one

        seed, index = self.key(i)
        n_layers = self.config["n_layers"]  # JSON turns a (lo, hi) range into a list
        n_layers = tuple(n_layers) if isinstance(n_layers, list) else n_layers
        return sample_one(seed, index, mode=self.config["mode"], n_layers=n_layers)

    def save(self, path: Path) -> None:
        """Atomic write (a temporary file renamed into place)."""
        arrays: dict[str, np.ndarray] = {"keys": self.keys.astype(np.int64)}
        for name, v in self.views.items():
            arrays |= {f"{name}_mean": v.mean, f"{name}_components": v.components}
            arrays |= {f"{name}_codes": v.codes, f"{name}_scale": v.scale}
        arrays["config"] = np.frombuffer(json.dumps(self.config).encode(), dtype=np.uint8)
        with atomic_file(path) as handle:
            np.savez_compressed(handle, **arrays)


def fit_view(features: np.ndarray, n_components: int, fit_rows: int = 20000, seed: int = 0) -> View:
    """PCA of unit features (n, d) on at most `fit_rows` of them, then int8 codes for all."""
    rng = np.random.default_rng(seed)
    rows = features if len(features) <= fit_rows else features[rng.choice(len(features), fit_rows, False)]
    mean = rows.mean(axis=0).astype(np.float32)
    _, _, vt = np.linalg.svd(rows - mean, full_matrices=False)
    components = vt[:n_components].astype(np.float32)
    codes = (features - mean) @ components.T
    scale = np.maximum(np.abs(codes).max(axis=0), 1e-12) / 127.0
    return View(mean, components, np.round(codes / scale).astype(np.int8), scale.astype(np.float32))


_DEFAULT: dict[str, RetrievalBank | None] = {}


def default_bank() -> RetrievalBank | None:
    """The shipped bank (loaded once), or None with a warning when it is missing or unreadable."""
    if "bank" not in _DEFAULT:
        try:
            _DEFAULT["bank"] = load_bank()
        except BankError as exc:
            warnings.warn(f"{exc}; predictions use the CNN alone", stacklevel=2)
            _DEFAULT["bank"] = None
    return _DEFAULT["bank"]


def bank_for_cli(option: str | None, fallback: str) -> RetrievalBank | None:
    """A `--bank` option: "none" → None; a path → that bank (refused, exit status 2, when unreadable);
    absent → the shipped bank, or None with a note on stderr saying `fallback` (what runs instead)."""
    if option == "none":
        return None
    try:
        return load_bank(option)
    except BankError as exc:
        if option is not None:
            raise refusal(f"error: --bank {exc}") from None
        print(f"note: {exc}; {fallback}", file=sys.stderr)
        return None


def load_bank(path: str | Path | None = None) -> RetrievalBank:
    path = Path(path) if path is not None else DEFAULT_BANK
    if not path.is_file():
        raise BankError(
            f"no retrieval bank at {path}; build one with `python -m train.build_retrieval --out {path}`"
        )
    try:
        with path.open("rb") as head:
            if head.read(4) != b"PK\x03\x04":  # not an .npz (np.load would call it pickled data)
                raise BankError(f"{path} is not a retrieval bank (an .npz from train.build_retrieval)")
        with np.load(path) as data:
            config = json.loads(bytes(data["config"]).decode())
            views = {
                name: View(
                    data[f"{name}_mean"],
                    data[f"{name}_components"],
                    data[f"{name}_codes"],
                    data[f"{name}_scale"],
                )
                for name in VIEWS
            }
            keys = data["keys"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise BankError(f"cannot read the retrieval bank {path}: {exc}") from exc
    if config.get("version") != BANK_VERSION:
        raise BankError(f"{path} is bank version {config.get('version')}, this code reads {BANK_VERSION}")
    return RetrievalBank(views, keys, config)
