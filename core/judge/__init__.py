"""Judges: score a render 1–10 against the reference aesthetic, behind one interface chosen by name.

>>> from core.judge import create_judge
>>> judge = create_judge("proxy")                       # offline, labelled a proxy everywhere
>>> judge = create_judge("transformers:Qwen/Qwen2-VL-2B-Instruct")
>>> judge = create_judge("openai:http://localhost:11434/v1#qwen2.5vl")
>>> j = judge.score(image)                              # Judgement(score, rationale, judge, raw)
>>> p = judge.compare(candidate, incumbent)             # Preference(choice, rationale, judge, raw)

A judge returns a real score or raises (JudgeFailure after unparseable answers, JudgeUnavailable when it
cannot run here): a failure is never a number.
"""

from .base import Judge, JudgeError, JudgeFailure, Judgement, JudgeUnavailable, Preference
from .context import JudgeContext, default_reference_paths, resolve_references
from .parsing import AnswerError, ParsedPreference, ParsedScore, parse_preference, parse_score
from .registry import create_judge, judge_class, list_judges, register_judge

__all__ = [
    "AnswerError",
    "Judge",
    "JudgeContext",
    "JudgeError",
    "JudgeFailure",
    "JudgeUnavailable",
    "Judgement",
    "ParsedPreference",
    "ParsedScore",
    "Preference",
    "create_judge",
    "default_reference_paths",
    "judge_class",
    "list_judges",
    "parse_preference",
    "parse_score",
    "register_judge",
    "resolve_references",
]
