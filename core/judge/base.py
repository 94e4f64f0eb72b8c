"""The judge interface: every judge scores an image 1–10 against the reference aesthetic.

Failure policy (one rule for all judges): `score` either returns a Judgement with a real score in [1, 10]
or raises. An answer that cannot be parsed after the configured retries raises `JudgeFailure` (carrying
every raw answer), so a failure can never be mistaken for, or averaged in as, a score; a caller that logs
failures (explore → store) records them with score None.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

from .context import JudgeContext

Choice = Literal["candidate", "incumbent", "tie"]


class JudgeError(RuntimeError):
    """Any judge problem; the subclasses say whether retrying later can help."""


class JudgeUnavailable(JudgeError):
    """The judge cannot run here (model not available offline, server down): the message says what to do."""


class JudgeFailure(JudgeError):
    """The judge ran but gave no usable answer after all retries; `answers` are the raw replies."""

    def __init__(self, judge: str, reason: str, answers: list[str]) -> None:
        self.judge = judge
        self.reason = reason
        self.answers = answers
        shown = "; ".join(repr(a[:80]) for a in answers[-3:])
        super().__init__(
            f"{judge}: no usable answer after {len(answers)} attempt(s): {reason} (last: {shown})"
        )


@dataclass(frozen=True)
class Judgement:
    """A score in [1, 10] with its one-line reason, the judge's name and its raw output."""

    score: float
    rationale: str
    judge: str
    raw: str = ""

    def __post_init__(self) -> None:
        if not (
            isinstance(self.score, int | float) and math.isfinite(self.score) and 1.0 <= self.score <= 10.0
        ):
            raise ValueError(f"a Judgement's score must be a number in [1, 10], got {self.score!r}")


@dataclass(frozen=True)
class Preference:
    """Pairwise verdict: which of candidate and incumbent better fits the reference aesthetic."""

    choice: Choice
    rationale: str
    judge: str
    raw: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Judge(ABC):
    """One interface for every judge; chosen by a spec string through `create_judge`."""

    name: str
    """Shown with every judgement and stored with every rating (the proxy's contains "proxy")."""

    @classmethod
    @abstractmethod
    def from_spec(cls, arg: str, **options: Any) -> Judge:
        """Build from the part of the spec after `name:` (may be empty) and keyword options."""

    @abstractmethod
    def score(self, image: Any, context: JudgeContext | None = None) -> Judgement:
        """Score an image (path, array, PIL image) 1–10 against the context's reference designs."""

    @abstractmethod
    def compare(self, candidate: Any, incumbent: Any, context: JudgeContext | None = None) -> Preference:
        """Which of two images better fits the references (pairwise: more reliable than two scores)."""

    def prepare(self, context: JudgeContext | None = None) -> None:  # noqa: B027 (optional hook)
        """Load models / check the server now, so a CLI fails before its first evaluation, not during."""
