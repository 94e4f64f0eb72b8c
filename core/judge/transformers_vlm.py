"""A local image-text-to-text VLM through transformers (default Qwen/Qwen2-VL-2B-Instruct).

Spec: `transformers` or `transformers:MODEL_ID_OR_PATH`. Any model that AutoModelForImageTextToText and
AutoProcessor load and whose processor has a chat template works. 4-bit loading is used only where it can
work (bitsandbytes installed and a CUDA device); elsewhere bf16 on GPU, fp32 on CPU. The model loads on
first use (or `prepare()`); offline, a model that is not in the local cache fails with a message that says
how to make it available.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.device import pick_device

from .base import JudgeUnavailable
from .prompt import Part
from .vlm import VLMJudge

DEFAULT_MODEL = "Qwen/Qwen2-VL-2B-Instruct"


class TransformersJudge(VLMJudge):
    """A VLM judge running in this process. Options besides VLMJudge's: `device` (see core.device),
    `quantize` ("auto": 4-bit where possible; True requires it; False never), `max_new_tokens`, and
    `generation_kwargs` passed to `generate` (greedy decoding by default, for repeatable scores)."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str | None = None,
        quantize: bool | str = "auto",
        max_new_tokens: int = 64,
        generation_kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.model_id = model
        self.name = f"transformers:{model}"
        self.device_name = device
        self.quantize = quantize
        self.max_new_tokens = max_new_tokens
        self.generation_kwargs = generation_kwargs or {}
        self._model: Any = None
        self._processor: Any = None

    @classmethod
    def from_spec(cls, arg: str, **options: Any) -> TransformersJudge:
        return cls(arg or DEFAULT_MODEL, **options)

    def prepare(self, context: Any = None) -> None:
        self._load()

    # -- loading -------------------------------------------------------------------------------------------

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        device = pick_device(self.device_name)
        kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if device.type == "cuda" else torch.float32}
        if self._use_4bit(device.type):
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16
            )
            kwargs["device_map"] = {"": device.index or 0}
        # offline without HF_HUB_OFFLINE: the cache only, at once (the hub's retries took 2.5 min)
        offline = not Path(self.model_id).exists() and not hub_reachable()
        try:
            processor = AutoProcessor.from_pretrained(self.model_id, local_files_only=offline)
            model = AutoModelForImageTextToText.from_pretrained(
                self.model_id, local_files_only=offline, **kwargs
            )
        except OSError as exc:  # missing files, offline hub, gated or unknown repo
            raise JudgeUnavailable(_unavailable_message(self.model_id, exc)) from exc
        except ValueError as exc:  # a checkpoint that is not an image-text-to-text model
            raise JudgeUnavailable(f"{self.model_id!r} is not an image-text-to-text model: {exc}") from exc
        if "quantization_config" not in kwargs:
            model = model.to(device)
        self._processor, self._model, self._device = processor, model.eval(), device

    def _use_4bit(self, device_type: str) -> bool:
        possible = device_type == "cuda" and importlib.util.find_spec("bitsandbytes") is not None
        if self.quantize is True and not possible:
            raise JudgeUnavailable(
                f"{self.name}: 4-bit loading needs bitsandbytes and a CUDA GPU (device here: {device_type}); "
                "use quantize='auto' or False"
            )
        return possible and self.quantize in (True, "auto")

    # -- asking --------------------------------------------------------------------------------------------

    def _ask(self, parts: Sequence[Part]) -> str:
        import torch
        from PIL import Image

        self._load()
        content, images = [], []
        for part in parts:
            if isinstance(part, str):
                content.append({"type": "text", "text": part})
            else:
                content.append({"type": "image"})
                images.append(Image.fromarray(part))
        messages = [{"role": "user", "content": content}]
        text = self._processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        inputs = self._processor(text=[text], images=images, return_tensors="pt")
        inputs = inputs.to(self._device, dtype=self._model.dtype)  # floats only: ids stay integer
        settings = {"max_new_tokens": self.max_new_tokens, "do_sample": False, **self.generation_kwargs}
        with torch.inference_mode():
            output = self._model.generate(**inputs, **settings)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        return self._processor.batch_decode(new_tokens, skip_special_tokens=True)[0].strip()


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the Hugging Face hub (or $HF_ENDPOINT) answers a TCP connection within `timeout_s`; True
    when HF_HUB_OFFLINE is set, since the libraries then never ask it."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    endpoint = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    try:
        socket.create_connection((endpoint.hostname or "huggingface.co", port), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def _unavailable_message(model: str, exc: Exception) -> str:
    if Path(model).exists():
        return f"cannot load the VLM from {model!r}: {exc}"
    if model.startswith(("/", "./", "../", "~")) or "\\" in model:  # a folder, not a hub name ("org/model")
        return f"cannot load the VLM from {model!r}: there is no such folder (give a model's local folder)"
    return (
        f"cannot load the VLM {model!r}: it is not in the local Hugging Face cache and cannot be downloaded "
        f"here (offline or HF_HUB_OFFLINE=1). Make it available: on a machine with internet run "
        f"`huggingface-cli download {model} --local-dir <folder>` (or copy its ~/.cache/huggingface/hub "
        f"entry), "
        f"then pass the folder: --judge transformers:/path/to/<folder>. Without a VLM, --judge proxy works "
        f"offline. (cause: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    )
