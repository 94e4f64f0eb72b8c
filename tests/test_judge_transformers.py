"""core.judge transformers: a tiny randomly initialised Qwen2-VL, built from a config and saved to a folder,
runs the real load → chat template → processor → generate → decode → parse path with no download.

The tokenizer is a real byte-level BPE built with `tokenizers` (256 byte tokens plus Qwen's special tokens),
so any prompt text encodes and any generated token decodes. A random model answers gibberish; to test the
happy path the answer is scripted with a LogitsProcessor passed through the judge's generation_kwargs,
which still runs the real generate and decode.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.judge import JudgeContext, JudgeFailure, JudgeUnavailable, create_judge
from core.judge.transformers_vlm import TransformersJudge

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>"]
SPECIALS += ["<|image_pad|>", "<|video_pad|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for c in message['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CONTEXT = JudgeContext(references=(np.full((60, 100, 3), 40, np.uint8), np.full((50, 50, 3), 200, np.uint8)))


def _tokenizer() -> transformers.PreTrainedTokenizerFast:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={ch: i for i, ch in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIALS)
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~100k-parameter Qwen2-VL with processor, saved like a hub snapshot (loadable by local path)."""
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    tokenizer = _tokenizer()
    ids = {s: tokenizer.convert_tokens_to_ids(s) for s in SPECIALS}
    config = Qwen2VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 8192,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [1, 1, 2]},
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config={"depth": 1, "embed_dim": 32, "hidden_size": 32, "num_heads": 2, "mlp_ratio": 2},
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(config)
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16),
        tokenizer=tokenizer,
        video_processor=Qwen2VLVideoProcessor(),
        chat_template=CHAT_TEMPLATE,
    )
    folder = tmp_path_factory.mktemp("tiny-qwen2-vl")
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


class ScriptedAnswers(transformers.LogitsProcessor):
    """Forces generate to emit one scripted answer per call (then EOS), cycling through `answers`."""

    def __init__(self, tokenizer: transformers.PreTrainedTokenizerBase, answers: list[str]) -> None:
        self.scripts = [
            [*tokenizer.encode(a, add_special_tokens=False), tokenizer.eos_token_id] for a in answers
        ]
        self.calls = 0
        self.prompt_length: int | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.prompt_length is None or input_ids.shape[1] <= self.prompt_length:
            self.prompt_length = input_ids.shape[1]
            self.calls += 1
        script = self.scripts[(self.calls - 1) % len(self.scripts)]
        step = min(input_ids.shape[1] - self.prompt_length, len(script) - 1)
        forced = torch.full_like(scores, float("-inf"))
        forced[:, script[step]] = 0.0
        return forced


def _judge(folder: Path, answers: list[str] | None = None, **options: object) -> TransformersJudge:
    kwargs: dict[str, object] = {}
    script = None
    if answers is not None:
        script = ScriptedAnswers(_tokenizer(), answers)
        kwargs["generation_kwargs"] = {"logits_processor": transformers.LogitsProcessorList([script])}
    judge = create_judge(f"transformers:{folder}", device="cpu", max_side=64, **kwargs, **options)
    judge.script = script  # type: ignore[attr-defined]
    return judge  # type: ignore[return-value]


def test_tiny_qwen2_vl_scores_through_generate_decode_parse(tiny_model_dir: Path) -> None:
    judge = _judge(tiny_model_dir, ["SCORE: 7/10 — soft glow, good balance"])
    result = judge.score(np.zeros((90, 160, 3), np.uint8), CONTEXT)
    assert result.score == 7.0 and result.rationale == "soft glow, good balance"
    assert result.raw == "SCORE: 7/10 — soft glow, good balance"
    assert result.judge == f"transformers:{tiny_model_dir}"


def test_unparseable_generations_are_retried_then_parsed(tiny_model_dir: Path) -> None:
    judge = _judge(tiny_model_dir, ["What a lovely picture", "3/10 — too sparse"], retries=2)
    assert judge.score(np.zeros((40, 40, 3), np.uint8), CONTEXT).score == 3.0
    assert judge.script.calls == 2  # type: ignore[attr-defined]


def test_random_model_gibberish_is_a_failure_never_a_score(tiny_model_dir: Path) -> None:
    judge = _judge(tiny_model_dir, retries=1, max_new_tokens=12)
    with pytest.raises(JudgeFailure, match="2 attempt") as caught:
        judge.score(np.zeros((40, 40, 3), np.uint8), CONTEXT)
    assert len(caught.value.answers) == 2


def test_pairwise_with_the_tiny_model(tiny_model_dir: Path) -> None:
    judge = _judge(tiny_model_dir, ["PREFER: B — calmer"])
    image = np.zeros((40, 40, 3), np.uint8)
    assert judge.compare(image, image, CONTEXT).choice == "incumbent"


def test_a_model_not_available_offline_gets_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    judge = create_judge("transformers:bb-match-tests/no-such-vlm", device="cpu")
    with pytest.raises(JudgeUnavailable) as caught:
        judge.prepare()
    message = str(caught.value)
    assert "bb-match-tests/no-such-vlm" in message and "huggingface-cli download" in message
    assert "transformers:/path/to/" in message
    missing = create_judge("transformers:/nonexistent/vlm", device="cpu")  # a folder mistyped: said as one
    with pytest.raises(JudgeUnavailable, match=r"'/nonexistent/vlm': there is no such folder"):
        missing.prepare()


def test_4bit_is_refused_where_it_cannot_work(tiny_model_dir: Path) -> None:
    judge = _judge(tiny_model_dir, quantize=True)
    with pytest.raises(JudgeUnavailable, match="4-bit"):
        judge.prepare()


def test_no_internet_without_hf_hub_offline_reads_the_cache_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, with HF_HUB_OFFLINE unset, loading retried the hub for about 2.5 min before the clear
    message (an audit): an unreachable hub now means the local cache only."""
    import transformers

    from core.judge import transformers_vlm

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)

    def no_route(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("Network is unreachable")

    asked: list[dict] = []

    def from_pretrained(model_id, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(kwargs)
        raise OSError(f"{model_id} is not in the cache")

    monkeypatch.setattr(transformers_vlm.socket, "create_connection", no_route)
    monkeypatch.setattr(transformers.AutoProcessor, "from_pretrained", from_pretrained)
    assert transformers_vlm.hub_reachable() is False
    with pytest.raises(JudgeUnavailable, match="not in the local Hugging Face cache"):
        create_judge("transformers:bb-match-tests/no-such-vlm", device="cpu").prepare()
    assert asked == [{"local_files_only": True}]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the libraries never ask the hub then: no probe either
    assert transformers_vlm.hub_reachable() is True
