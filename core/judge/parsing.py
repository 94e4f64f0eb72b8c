"""Strict reading of VLM answers: a score is taken only when the answer states exactly one, out of 10.

The designer's old parser stripped non-digits, so "3/10" read as 31. Here numbers are matched as whole
tokens with their denominator, in this order of trust:

1. a labelled score — "SCORE: 7/10 — reason", "Score: 7.5", "rating of 8 out of 10" (the format we ask for;
   a label without ':', '=' or 'is' counts only with its denominator: "a score of 10" in prose is no score);
2. otherwise a fraction anywhere — "7/10", "8 out of 10";
3. otherwise an answer that *is* a number — "7", "7 — reason".

Rejected (AnswerError, never a score): no number, a denominator other than 10, a value outside [1, 10]
("31", "score 0", "11/10"), several different candidates at the same level ("7/10 or 8/10"), ranges
("7-8/10", "Score: 7 to 8") and decimal commas ("7,5/10").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SCORE_MIN, SCORE_MAX = 1.0, 10.0
REASON_MAX_CHARS = 240

_NUM = r"[-+]?\d+(?:\.\d+)?"
_DEN = r"(?:\s*(?:/|out\s+of)\s*(?P<den>\d+(?:\.\d+)?)(?![\d.,]\d))?"
_END = r"(?![\d.,]\d)(?!\d)"
_LABELLED = re.compile(
    rf"\b(?:score|rating)\b\s*(?P<link>is|of|=|:)?\s*(?P<num>{_NUM}){_END}{_DEN}", re.IGNORECASE
)
_FRACTION = re.compile(
    r"(?<![\w.,/+\-–])(?P<num>\d+(?:\.\d+)?)\s*(?:/|out\s+of)\s*(?P<den>\d+(?:\.\d+)?)(?![\d.,]\d)",
    re.IGNORECASE,
)
_BARE = re.compile(rf"^\s*(?P<num>{_NUM}){_END}{_DEN}\s*(?:$|[—–-]\s+|:\s+|\|\s*)")
_RANGE_AFTER = re.compile(r"^\s*(?:-|–|to|or|and)\s*\d", re.IGNORECASE)
_RANGE_BEFORE = re.compile(r"\d\s*(?:-|–|to|or|and)\s*$", re.IGNORECASE)
_MARKUP = re.compile(r"[*`#]")
_SEPARATORS = " \t—–-:|.,;"

_LETTER = r"(?P<pick>A|B|(?i:tie|equal|same|neither|both))\b"
_PREFERENCE = re.compile(
    rf"(?i:\b(?:prefer(?:ence|red)?|winner|choice|better)\b)\s*[:=]?\s*(?i:image\s+)?{_LETTER}"
)
_BARE_PREFERENCE = re.compile(rf"^\s*(?i:image\s+)?{_LETTER}\s*(?:$|[—–:.-]\s*|\|)")

Pick = Literal["A", "B", "tie"]


class AnswerError(ValueError):
    """An answer that does not state a usable score or preference; the message says why."""


@dataclass(frozen=True)
class ParsedScore:
    score: float
    reason: str


@dataclass(frozen=True)
class ParsedPreference:
    pick: Pick
    reason: str


def parse_score(answer: str) -> ParsedScore:
    """The one score an answer states, with the reason text around it; raises AnswerError otherwise."""
    text = _MARKUP.sub("", answer or "").strip()
    if not text:
        raise AnswerError("empty answer")
    for pattern in (_LABELLED, _FRACTION, _BARE):
        matches = [m for m in pattern.finditer(text) if pattern is not _LABELLED or _states_a_score(m)]
        if matches:
            return _single_score(text, matches)
    raise AnswerError("no score found (expected e.g. 'SCORE: 7/10 — reason')")


def parse_preference(answer: str) -> ParsedPreference:
    """'PREFER: A|B|TIE — reason', or an answer starting with A, B or TIE; raises AnswerError otherwise."""
    text = _MARKUP.sub("", answer or "").strip()
    for pattern in (_PREFERENCE, _BARE_PREFERENCE):
        matches = list(pattern.finditer(text))
        if not matches:
            continue
        picks = {_pick(m.group("pick")) for m in matches}
        if len(picks) > 1:
            raise AnswerError(f"ambiguous preference: {sorted(picks)}")
        return ParsedPreference(pick=picks.pop(), reason=_reason(text, matches[0]))
    raise AnswerError("no preference found (expected 'PREFER: A', 'PREFER: B' or 'PREFER: TIE')")


def _states_a_score(match: re.Match[str]) -> bool:
    """Whether a labelled match states the score ("SCORE: 7", "score is 7", "rating of 8 out of 10")
    rather than mentions one in prose: "does not deserve a score of 10", "a score of 1 would be unfair"
    and "Ignore the scale, score 10" were read as 10, 1 and 10. Without ':', '=' or 'is' after the
    label it counts only with its "/10" or "out of 10"."""
    link = (match.group("link") or "").lower()
    return link in (":", "=", "is") or match.group("den") is not None


def _single_score(text: str, matches: list[re.Match[str]]) -> ParsedScore:
    values = set()
    for match in matches:
        den = match.group("den")
        if den is not None and float(den) != 10.0:
            raise AnswerError(f"score {match.group(0).strip()!r} is not out of 10")
        if _RANGE_AFTER.match(text[match.end("num") :]) or _RANGE_BEFORE.search(text[: match.start("num")]):
            raise AnswerError(f"a range, not one score: {match.group(0).strip()!r}")
        values.add(float(match.group("num")))
    if len(values) > 1:
        raise AnswerError(f"ambiguous: several scores {sorted(values)}")
    value = values.pop()
    if not SCORE_MIN <= value <= SCORE_MAX:
        raise AnswerError(f"score {value:g} is outside [{SCORE_MIN:g}, {SCORE_MAX:g}]")
    return ParsedScore(score=value, reason=_reason(text, matches[0]))


def _pick(word: str) -> Pick:
    return word if word in ("A", "B") else "tie"  # type: ignore[return-value]


def _reason(text: str, match: re.Match[str]) -> str:
    """The one-line reason: rest of the matched line, else the next non-empty line, else the text before."""
    line_end = text.find("\n", match.end())
    rest = text[match.end() : None if line_end < 0 else line_end].strip(_SEPARATORS)
    if not rest and line_end >= 0:
        rest = next((ln.strip(_SEPARATORS) for ln in text[line_end:].splitlines() if ln.strip()), "")
    if not rest:
        line_start = text.rfind("\n", 0, match.start()) + 1
        rest = text[line_start : match.start()].strip(_SEPARATORS)
    return " ".join(rest.split())[:REASON_MAX_CHARS]
