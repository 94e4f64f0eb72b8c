"""core.judge proxy: the shipped ImageNet weights really load, and the proxy ranks real images sensibly."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from core.judge import JudgeContext, create_judge
from core.judge.embedding import fold_batchnorm, load_classifier, order_matched, weights_path
from core.judge.proxy import ProxyJudge

CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO = 967


@pytest.fixture(scope="module")
def classifier() -> torch.nn.Module:
    return load_classifier()


def _logits(model: torch.nn.Module, image: np.ndarray) -> torch.Tensor:
    from core.imageio import resize

    x = resize(image.astype(np.float32) / 255.0, 224, 224)
    tensor = (torch.from_numpy(x).permute(2, 0, 1)[None] - 0.5) / 0.5
    with torch.inference_mode():
        return model(tensor)[0]


def test_weights_are_the_files_tensors_under_timm_names(classifier: torch.nn.Module) -> None:
    source = torch.load(weights_path(), map_location="cpu", weights_only=True)
    state = classifier.state_dict()
    assert torch.equal(state["conv_stem.weight"], source["_conv_stem.weight"])
    assert torch.equal(state["blocks.0.0.conv_dw.weight"], source["_blocks.0._depthwise_conv.weight"])
    assert torch.equal(state["bn2.running_var"], source["_bn1.running_var"])
    assert torch.equal(state["classifier.weight"], source["_fc.weight"])
    assert not torch.equal(state["conv_stem.weight"], torch.zeros_like(state["conv_stem.weight"]))


def test_order_matching_refuses_a_shape_mismatch() -> None:
    a = {"x": torch.zeros(3), "y": torch.zeros(2, 2)}
    with pytest.raises(ValueError, match="order matching failed at y"):
        order_matched(a, {"p": torch.zeros(3), "q": torch.zeros(4)})
    with pytest.raises(ValueError, match="differ in length"):
        order_matched(a, {"p": torch.zeros(3)})


def test_predictions_on_natural_photos_are_right_not_random(classifier: torch.nn.Module) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    cat = _logits(classifier, skimage_data.chelsea()).softmax(-1)
    coffee = _logits(classifier, skimage_data.coffee()).softmax(-1)
    assert int(cat.argmax()) in CAT_CLASSES and float(cat[list(CAT_CLASSES)].sum()) > 0.5
    assert int(coffee.argmax()) == ESPRESSO and float(coffee[ESPRESSO]) > 0.5


def test_batchnorm_folding_keeps_the_features(classifier: torch.nn.Module) -> None:
    folded = fold_batchnorm(load_classifier())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    x = torch.randn(1, 3, 96, 160, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        a = classifier.forward_head(classifier.forward_features(x), pre_logits=True)
        b = folded.forward_head(folded.forward_features(x), pre_logits=True)
    assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)


# -- scoring real images --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def judge() -> ProxyJudge:
    return create_judge("proxy")  # type: ignore[return-value]


@pytest.fixture(scope="module")
def resembling_render(shared: Path) -> np.ndarray:
    """refs.jsonl line 43: the designer's parameters for the design in references/ref.png."""
    from core.params import to_scene_params
    from core.render import render

    line = (shared / "refs" / "refs.jsonl").read_text().splitlines()[42]
    return render(to_scene_params(json.loads(line)), 256, 142, "fast")


@pytest.mark.shared
def test_a_render_like_the_reference_beats_black_and_blown_out(
    judge: ProxyJudge, resembling_render: np.ndarray
) -> None:
    good = judge.score(resembling_render)
    black = judge.score(np.zeros_like(resembling_render))
    blown = judge.score(np.clip(resembling_render.astype(np.float32) * 20, 0, 255).astype(np.uint8))
    white = judge.score(np.full_like(resembling_render, 255))
    assert good.score >= 8.0, good.rationale
    assert json.loads(good.raw)["nearest"] == "ref.png"
    assert black.score == 1.0 and "near-empty" in black.rationale
    assert blown.score < good.score - 3 and "blown out" in blown.rationale
    assert white.score == 1.0
    for result in (good, black, blown):
        assert "proxy" in result.judge and result.rationale.startswith("PROXY judge")


@pytest.mark.shared
def test_a_reference_scores_top_marks_against_itself(judge: ProxyJudge, shared: Path) -> None:
    from core.imageio import load_image, resize

    reference = load_image(shared / "references" / "figma-01.png")
    assert judge.score(resize(reference, 256, 142)).score >= 9.5


@pytest.mark.shared
def test_pairwise_prefers_the_better_image(judge: ProxyJudge, resembling_render: np.ndarray) -> None:
    preference = judge.compare(resembling_render, np.zeros_like(resembling_render))
    assert preference.choice == "candidate" and "PROXY" in preference.rationale
    assert judge.compare(resembling_render, resembling_render).choice == "tie"


def test_references_from_the_context_are_used_and_cached() -> None:
    skimage_data = pytest.importorskip("skimage.data")
    judge = ProxyJudge()
    cat, coffee = skimage_data.chelsea(), skimage_data.coffee()
    context = JudgeContext(references=(cat,))
    same, other = judge.score(cat, context), judge.score(coffee, context)
    assert same.score == 10.0 and other.score < 7.0, other.rationale
    assert "reference-1" in same.rationale
    judge.score(coffee, JudgeContext(references=(cat.copy(),)))
    assert len(judge._calibrations) == 1  # same pixels, same cached calibration
    assert judge.score(cat, JudgeContext(references=(coffee,))).score < 7.0


@pytest.mark.shared
def test_speed_under_50_ms_per_image_on_one_core(judge: ProxyJudge, resembling_render: np.ndarray) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        judge.score(resembling_render)  # warm: reference embeddings are cached after this
        cpu, wall = [], []
        for _ in range(15):
            c0, w0 = time.thread_time(), time.perf_counter()
            judge.score(resembling_render)
            cpu.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - w0)
    finally:
        torch.set_num_threads(threads)
    cpu_ms, wall_ms = statistics.median(cpu) * 1e3, statistics.median(wall) * 1e3
    print(f"proxy score 256x142: cpu median {cpu_ms:.1f} ms, wall {wall_ms:.1f} ms")
    assert statistics.median(cpu) <= 0.050
