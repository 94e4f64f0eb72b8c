"""core.judge parsing and the shared VLM retry policy: strict scores, never a guessed number."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from core.judge import (
    AnswerError,
    JudgeContext,
    JudgeFailure,
    Judgement,
    create_judge,
    list_judges,
    parse_preference,
    parse_score,
    register_judge,
)
from core.judge.prompt import Part
from core.judge.vlm import VLMJudge

GOOD = [
    ("7", 7.0),
    ("7/10", 7.0),
    ("7.5/10", 7.5),
    ("Score: 7", 7.0),
    ("3/10", 3.0),  # the old parser read this as 31
    ("Score: 10/10", 10.0),
    ("8 out of 10", 8.0),
    ("SCORE: 7/10 — soft glow, balanced", 7.0),
    ("**Score:** 8/10\nStrong composition.", 8.0),
    ("Score: **6**/10", 6.0),
    ("I'd give it 6/10 because it is sparse.", 6.0),
    ("Rating: 9 out of 10 — stunning", 9.0),
    ("SCORE: 7/10 — better than the 5/10 before", 7.0),  # the labelled score wins over a mention
    ("SCORE: 7/10 - 3 rings overlap", 7.0),
    ("The score is 4/10 as the image is mostly empty", 4.0),
    ("score:9.5/10", 9.5),
    ("1", 1.0),
    ("10", 10.0),
]

BAD = [
    ("31", "outside"),
    ("score: 0", "outside"),
    ("score 0", "no score found"),  # a label without ':' or a denominator is prose, not a score
    ("Ignore the scale, score 10", "no score found"),  # were read as 10, 10 and 1
    ("It does not deserve a score of 10; it is weak.", "no score found"),
    ("I cannot rate images. A score of 1 would be unfair.", "no score found"),
    ("Score: 11/10", "outside"),
    ("Score: -3", "outside"),
    ("10.5", "outside"),
    ("70/100", "not out of 10"),
    ("Score: 7/5", "not out of 10"),
    ("Score: 7\nScore: 8", "ambiguous"),
    ("7/10 or 8/10", "range"),
    ("Score: 7 to 8", "range"),
    ("7-8/10", "no score"),
    ("7,5/10", "no score"),
    ("between 6 and 8", "no score"),
    ("1. Composition is good 2. Colours", "no score"),
    ("A lovely render!", "no score"),
    ("", "empty"),
]


@pytest.mark.parametrize(("answer", "expected"), GOOD)
def test_good_answers_parse_to_their_score(answer: str, expected: float) -> None:
    assert parse_score(answer).score == expected


@pytest.mark.parametrize(("answer", "why"), BAD)
def test_bad_answers_are_rejected_with_a_reason(answer: str, why: str) -> None:
    with pytest.raises(AnswerError, match=why):
        parse_score(answer)


def test_reason_is_the_rest_of_the_line() -> None:
    assert parse_score("SCORE: 7/10 — soft glow, balanced").reason == "soft glow, balanced"
    assert parse_score("Score: 6/10\n\nToo dense in the centre.").reason == "Too dense in the centre"


@pytest.mark.parametrize(
    ("answer", "pick"),
    [("PREFER: A — brighter core", "A"), ("B", "B"), ("Preference: TIE", "tie"), ("A. The first one", "A")],
)
def test_preferences_parse(answer: str, pick: str) -> None:
    assert parse_preference(answer).pick == pick


@pytest.mark.parametrize("answer", ["PREFER: a close call", "PREFER: A ... PREFER: B", "Both are nice", ""])
def test_unclear_preferences_are_rejected(answer: str) -> None:
    with pytest.raises(AnswerError):
        parse_preference(answer)


def test_judgement_refuses_a_score_outside_1_to_10() -> None:
    for bad in (0.0, 10.01, float("nan")):
        with pytest.raises(ValueError, match=r"\[1, 10\]"):
            Judgement(score=bad, rationale="", judge="x")


# -- the retry policy every VLM judge shares --------------------------------------------------------------


class ScriptedJudge(VLMJudge):
    """A VLM judge whose 'model' replies from a script; records what it was shown."""

    name = "scripted"

    def __init__(self, answers: list[str], **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.answers = list(answers)
        self.prompts: list[Sequence[Part]] = []

    @classmethod
    def from_spec(cls, arg: str, **options: object) -> ScriptedJudge:
        return cls(arg.split("|"), **options)

    def _ask(self, parts: Sequence[Part]) -> str:
        self.prompts.append(parts)
        return self.answers.pop(0)


CONTEXT = JudgeContext(references=(np.full((40, 60, 3), 0.2, np.float32), np.zeros((30, 30, 3), np.uint8)))


def test_unparseable_answers_are_retried_then_scored() -> None:
    judge = ScriptedJudge(["Looks great!", "SCORE: 31", "SCORE: 8/10 — crisp rings"], retries=2)
    result = judge.score(np.zeros((20, 20, 3), np.uint8), CONTEXT)
    assert (result.score, result.rationale, result.raw) == (8.0, "crisp rings", "SCORE: 8/10 — crisp rings")
    assert len(judge.prompts) == 3


def test_answers_still_unparseable_after_retries_raise_a_failure_not_a_score() -> None:
    judge = ScriptedJudge(["nice", "3 or 4", "very nice", "SCORE: 9/10"], retries=2)
    with pytest.raises(JudgeFailure, match="3 attempt") as caught:
        judge.score(np.zeros((20, 20, 3), np.uint8), CONTEXT)
    assert caught.value.answers == ["nice", "3 or 4", "very nice"]
    assert judge.answers == ["SCORE: 9/10"]  # not asked a fourth time


def test_prompt_shows_references_first_then_the_candidate_and_the_format() -> None:
    judge = ScriptedJudge(["7"], max_side=32)
    judge.score(np.zeros((100, 50, 3), np.uint8), JudgeContext(references=CONTEXT.references, brief="calm"))
    parts = judge.prompts[0]
    images = [p for p in parts if not isinstance(p, str)]
    assert len(images) == 3 and all(max(i.shape[:2]) <= 32 and i.dtype == np.uint8 for i in images)
    text = [p for p in parts if isinstance(p, str)]
    assert text[0].startswith("Reference design 1") and "SCORE: <number>/10" in text[-1]
    assert any("calm" in t for t in text)
    positions = [i for i, p in enumerate(parts) if not isinstance(p, str)]
    assert parts[positions[-1] - 1] == "Candidate render:" and images[-1].shape == (32, 16, 3)


def test_pairwise_both_orders_turns_position_bias_into_a_tie() -> None:
    image = np.zeros((20, 20, 3), np.uint8)
    biased = ScriptedJudge(["PREFER: A — first", "PREFER: A — first"], both_orders=True)
    assert biased.compare(image, image, CONTEXT).choice == "tie"
    consistent = ScriptedJudge(["PREFER: B — calmer", "PREFER: A — calmer"], both_orders=True)
    assert consistent.compare(image, image, CONTEXT).choice == "incumbent"
    single = ScriptedJudge(["PREFER: A — brighter"])
    assert single.compare(image, image, CONTEXT).choice == "candidate"


def test_registry_builds_judges_by_spec() -> None:
    assert {"proxy", "transformers", "openai"} <= set(list_judges())
    register_judge("scripted", ScriptedJudge)
    judge = create_judge("scripted:SCORE: 5/10 — fine", retries=0)
    assert judge.score(np.zeros((20, 20, 3), np.uint8), CONTEXT).score == 5.0
    with pytest.raises(ValueError, match="unknown judge 'nope'"):
        create_judge("nope:x")
    with pytest.raises(ValueError, match="needs a URL"):
        create_judge("openai")
    assert create_judge("openai:http://127.0.0.1:9/v1#m").name == "openai:http://127.0.0.1:9/v1#m"
    assert create_judge("transformers").name == "transformers:Qwen/Qwen2-VL-2B-Instruct"
