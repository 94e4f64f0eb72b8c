"""Argument types for the command lines: a count or a duration out of range is refused by argparse with a
message that says what is allowed, before any work starts (a `--budget -5` used to run one evaluation
and a `--seconds -1` to run without a time limit)."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable


def _number(text: str, kind: type[int] | type[float]) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        words = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _at_least(text: str, kind: type[int] | type[float], low: int) -> int | float:
    value = _number(text, kind)
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {text.strip()}")
    return value


def positive_int(text: str) -> int:
    """A whole number ≥ 1 (workers, samples, epochs)."""
    return int(_at_least(text, int, 1))


def count(text: str) -> int:
    """A whole number ≥ 0 (0 usually meaning "none" or "no limit": the option's help says which)."""
    return int(_at_least(text, int, 0))


def duration(text: str) -> float:
    """A duration ≥ 0 in the option's unit (0: no limit, where the option's help says so)."""
    return float(_at_least(text, float, 0))


def non_negative_float(text: str) -> float:
    """A finite number ≥ 0 (a weight decay, a weight)."""
    return float(_at_least(text, float, 0))


def positive_float(text: str) -> float:
    """A finite number > 0 (a learning rate, a step)."""
    value = float(_number(text, float))
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text.strip()}")
    return value


def whole_in(low: int, high: int, unit: str = "") -> Callable[[str], int]:
    """An argument type for a whole number from `low` to `high` (`unit` follows the range in the message)."""

    def check(text: str) -> int:
        value = int(_number(text, int))
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low} to {high}{unit}, got {value}")
        return value

    return check


port = whole_in(0, 65535)
"""A TCP port, 0 (any free one) to 65535."""

MAX_SEED = 2**32 - 1
"""The largest seed numpy's and cmaes' generators take: a larger or negative one failed after the work
before it (a first guess, an exploration's run record)."""
seed = whole_in(0, MAX_SEED)
"""An optimiser's or sampler's seed."""


class Refusal(SystemExit):
    """Input a command line refuses before its work: exit status 2, as argparse's own refusals and the core
    tools' (the training tools used to exit 1, like a crash, so a job script could not tell them apart).
    str() is the message, for tests and callers."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


def refusal(message: str) -> Refusal:
    """Say `message` on stderr and return the Refusal to raise: `raise refusal("error: …") from None`."""
    print(message, file=sys.stderr)
    return Refusal(message)
