"""core.device: one device rule (argument > BB_DEVICE > cuda/mps/cpu) with clear errors."""

from __future__ import annotations

import pytest

from core.device import ENV_VAR, DeviceUnavailableError, available_devices, pick_device

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_automatic_choice_is_the_best_available() -> None:
    kinds = available_devices()
    assert kinds[-1] == "cpu"
    assert pick_device().type == kinds[0]
    assert pick_device("auto").type == kinds[0]


def test_explicit_cpu_and_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pick_device("cpu") == torch.device("cpu")
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert pick_device() == torch.device("cpu")
    monkeypatch.setenv(ENV_VAR, "auto")
    assert pick_device().type == available_devices()[0]


def test_explicit_argument_beats_the_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "no-such-device")
    assert pick_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match=ENV_VAR):
        pick_device()


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="tpu"):
        pick_device("tpu")


@pytest.mark.parametrize("kind", ["cuda", "mps"])
def test_unavailable_device_is_an_error_not_a_fallback(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if kind in available_devices():
        pytest.skip(f"{kind} is available on this machine")
    with pytest.raises(DeviceUnavailableError, match=kind):
        pick_device(kind)
    monkeypatch.setenv(ENV_VAR, kind)
    with pytest.raises(DeviceUnavailableError, match=ENV_VAR):
        pick_device()


def test_cuda_index_beyond_the_gpus_is_an_error() -> None:
    if "cuda" not in available_devices():
        pytest.skip("no CUDA device here")
    with pytest.raises(DeviceUnavailableError):
        pick_device(f"cuda:{torch.cuda.device_count()}")
    assert pick_device("cuda:0") == torch.device("cuda:0")


def test_a_torch_device_is_read_by_its_name() -> None:
    """load_model(device=torch.device("cuda")) without a driver was torch's own RuntimeError."""
    assert pick_device(torch.device("cpu")) == torch.device("cpu")
    if "cuda" not in available_devices():
        with pytest.raises(DeviceUnavailableError, match="'cuda'"):
            pick_device(torch.device("cuda"))
