"""LPIPS: a real distance when the AlexNet weights are present, a reason (never a fake number) when not,
and the loading code path itself exercised offline with random weights."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.metrics import (
    LpipsUnavailable,
    alexnet_checkpoint_path,
    clear_lpips_cache,
    load_lpips,
    lpips_distance,
    lpips_metric,
    lpips_or_reason,
    match_report,
)
from core.metrics.lpips_metric import ALEXNET_CHECKPOINT

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Models built here (random or fake weights) must never leak into other tests."""
    clear_lpips_cache()
    yield
    clear_lpips_cache()


@pytest.fixture
def images() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.random((96, 128, 3), dtype=np.float32)
    b = np.clip(a + rng.normal(0, 0.2, a.shape).astype(np.float32), 0, 1)
    return a, b


@pytest.fixture
def hub_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty torch hub cache; any download attempt fails the test."""

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("LPIPS tried to download weights")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    return tmp_path


def test_checkpoint_name_is_torchvisions() -> None:
    from torchvision.models import AlexNet_Weights

    assert AlexNet_Weights.IMAGENET1K_V1.url.endswith("/" + ALEXNET_CHECKPOINT)
    assert alexnet_checkpoint_path() == Path(torch.hub.get_dir()) / "checkpoints" / ALEXNET_CHECKPOINT


def test_hub_dir_rule_matches_torch_before_torch_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    for env in ({}, {"XDG_CACHE_HOME": "/x/cache"}, {"TORCH_HOME": "~/th", "XDG_CACHE_HOME": "/x/cache"}):
        monkeypatch.delenv("TORCH_HOME", raising=False)
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert lpips_metric._hub_dir_from_env() == Path(torch.hub.get_dir())


def test_missing_weights_give_a_reason_not_a_number(hub_dir: Path, images: tuple[np.ndarray, ...]) -> None:
    with pytest.raises(LpipsUnavailable) as info:
        load_lpips()
    message = str(info.value)
    assert str(hub_dir / "checkpoints") in message and ALEXNET_CHECKPOINT in message
    value, reason = lpips_or_reason(*images)
    assert value is None and reason == message and "\n" not in reason
    report = match_report(*images)
    assert report["lpips"] is None and report["lpips_reason"] == message


def test_random_weights_path_gives_a_distance(images: tuple[np.ndarray, np.ndarray]) -> None:
    model = load_lpips(random_weights=True)
    assert load_lpips(random_weights=True) is model  # cached
    a, b = images
    assert lpips_distance(a, a, model=model) == 0.0
    far = lpips_distance(a, b, model=model)
    near = lpips_distance(a, np.clip(a + 0.01, 0, 1), model=model)
    assert math.isfinite(far) and far > near > 0.0
    clear_lpips_cache()
    assert lpips_distance(a, b, model=load_lpips(random_weights=True)) == pytest.approx(far, rel=1e-5)


def test_real_loading_path_uses_the_cached_checkpoint(hub_dir: Path, images: tuple[np.ndarray, ...]) -> None:
    """A checkpoint in the hub cache (random AlexNet features here) is loaded without any download."""
    from torchvision.models import alexnet

    reference = alexnet(weights=None).state_dict()
    # The classifier is unused by LPIPS: store it as broadcast zeros so the file stays small (~10 MB).
    state = {
        k: v if k.startswith("features") else torch.zeros(1).expand(v.shape) for k, v in reference.items()
    }
    (hub_dir / "checkpoints").mkdir()
    torch.save(state, hub_dir / "checkpoints" / ALEXNET_CHECKPOINT)

    model = load_lpips()
    loaded = model.net.slice1[0].weight.detach().cpu()
    assert torch.equal(loaded, state["features.0.weight"])
    report = match_report(*images)
    assert report["lpips_reason"] is None
    assert math.isfinite(report["lpips"]) and report["lpips"] > 0.0
    assert match_report(images[0], images[0])["lpips"] == 0.0


def test_failures_while_computing_become_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lpips_metric, "load_lpips", lambda: load_lpips(random_weights=True))
    tiny = np.zeros((16, 16, 3), np.float32)  # too small for AlexNet's pooling
    value, reason = lpips_or_reason(tiny, tiny)
    assert value is None and reason is not None and reason.startswith("LPIPS failed:")
    with pytest.raises(ValueError, match="same size"):
        lpips_distance(tiny, np.zeros((17, 16, 3), np.float32))
