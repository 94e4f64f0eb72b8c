"""What every VLM judge shares: building the prompt, asking, strict parsing, and retrying bad answers.

A backend (local transformers, OpenAI-compatible HTTP) only implements `_ask(parts) -> str`. Transport
problems are the backend's to retry; this layer retries answers that do not parse, then raises
JudgeFailure with every raw answer, so an unusable answer is never turned into a score.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from .base import Judge, JudgeFailure, Judgement, Preference
from .context import JudgeContext, resolve_references
from .parsing import AnswerError, parse_preference, parse_score
from .prompt import Part, compare_prompt, score_prompt, shrink

T = TypeVar("T")

DEFAULT_RETRIES = 2
"""Extra attempts after an unparseable answer (so 3 asks in all)."""
RAW_MAX_CHARS = 4000
"""Characters of an answer kept (parsed and stored as the rating's raw text): a judge asked for 64 tokens
answers in a few hundred; a broken server's 5-MB reply was stored whole (30 MB for 6 evaluations)."""


class NoAnswer(Exception):
    """A reply without the model's text (an error page, empty choices): a failed attempt, retried and
    recorded as it came, never parsed for a score. The message is the reply."""


class VLMJudge(Judge):
    """Base of the VLM judges. Options: `retries` (unparseable answers), `max_side` (px per image sent),
    `max_references` (how many reference designs the prompt shows), `both_orders` (pairwise: ask A/B and
    B/A and call disagreement a tie, which cancels the models' position bias at twice the cost)."""

    name = "vlm"

    def __init__(
        self,
        *,
        retries: int = DEFAULT_RETRIES,
        max_side: int = 448,
        max_references: int = 3,
        both_orders: bool = False,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.retries = retries
        self.max_side = max_side
        self.max_references = max_references
        self.both_orders = both_orders

    @abstractmethod
    def _ask(self, parts: Sequence[Part]) -> str:
        """Send the prompt, return the model's text answer (backend-specific)."""

    def score(self, image: Any, context: JudgeContext | None = None) -> Judgement:
        parts = score_prompt(self._references(context), shrink(image, self.max_side), _brief(context))
        parsed, raw = self._ask_until_parsed(parts, parse_score)
        return Judgement(score=parsed.score, rationale=parsed.reason, judge=self.name, raw=raw)

    def compare(self, candidate: Any, incumbent: Any, context: JudgeContext | None = None) -> Preference:
        references = self._references(context)
        first, second = shrink(candidate, self.max_side), shrink(incumbent, self.max_side)
        parsed, raw = self._ask_until_parsed(
            compare_prompt(references, first, second, _brief(context)), parse_preference
        )
        choice = {"A": "candidate", "B": "incumbent", "tie": "tie"}[parsed.pick]
        if not self.both_orders:
            return Preference(choice=choice, rationale=parsed.reason, judge=self.name, raw=raw)  # type: ignore[arg-type]
        swapped, raw_swapped = self._ask_until_parsed(
            compare_prompt(references, second, first, _brief(context)), parse_preference
        )
        choice_swapped = {"A": "incumbent", "B": "candidate", "tie": "tie"}[swapped.pick]
        final = choice if choice == choice_swapped else "tie"
        return Preference(
            choice=final,  # type: ignore[arg-type]
            rationale=parsed.reason if final == choice else "the two orders disagreed (position bias): tie",
            judge=self.name,
            raw=f"{raw}\n---\n{raw_swapped}",
        )

    def _references(self, context: JudgeContext | None) -> list[np.ndarray]:
        return [
            shrink(ref.pixels, self.max_side) for ref in resolve_references(context)[: self.max_references]
        ]

    def _ask_until_parsed(self, parts: Sequence[Part], parse: Callable[[str], T]) -> tuple[T, str]:
        answers: list[str] = []
        reason = ""
        for _ in range(self.retries + 1):
            try:
                answer = self._ask(parts)[:RAW_MAX_CHARS]
            except NoAnswer as exc:
                answers.append(str(exc)[:RAW_MAX_CHARS])
                reason = "no answer in the server's reply"
                continue
            answers.append(answer)
            try:
                return parse(answer), answer
            except AnswerError as exc:
                reason = str(exc)
        raise JudgeFailure(self.name, reason, answers)


def _brief(context: JudgeContext | None) -> str:
    return context.brief if context is not None else ""
