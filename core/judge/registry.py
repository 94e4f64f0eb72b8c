"""Judges by name, like timm's create_model: `create_judge("proxy")`, `create_judge("openai:URL#model")`.

A spec is `NAME` or `NAME:ARG`; NAME picks a registered Judge class, ARG (model id, URL …) goes to its
`from_spec`. Built-in judges are imported only when asked for, so choosing the proxy never imports
transformers. `register_judge` adds a judge without touching this module.
"""

from __future__ import annotations

import importlib
from typing import Any

from .base import Judge

_REGISTRY: dict[str, str | type[Judge]] = {
    "proxy": "core.judge.proxy:ProxyJudge",
    "transformers": "core.judge.transformers_vlm:TransformersJudge",
    "openai": "core.judge.openai_vlm:OpenAIJudge",
}


def register_judge(name: str, judge: str | type[Judge]) -> None:
    """Register a Judge class (or "module:Class" to import lazily) under `name`."""
    if not name or ":" in name:
        raise ValueError(f"a judge name is a non-empty word without ':', got {name!r}")
    _REGISTRY[name] = judge


def list_judges() -> list[str]:
    return sorted(_REGISTRY)


def judge_class(name: str) -> type[Judge]:
    try:
        entry = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown judge {name!r}; choose one of {', '.join(list_judges())}") from None
    if isinstance(entry, str):
        module, _, attribute = entry.partition(":")
        entry = getattr(importlib.import_module(module), attribute)
    return entry


def create_judge(spec: str, **options: Any) -> Judge:
    """A judge from a spec string: `proxy`, `transformers[:MODEL_ID_OR_PATH]`, `openai:BASE_URL[#model]`."""
    name, _, arg = spec.strip().partition(":")
    return judge_class(name).from_spec(arg, **options)
