"""The search options every command that refines takes (`python -m core.refine`, `train.validate
--refine`): one definition, so the two cannot drift apart in their bounds, defaults or words."""

from __future__ import annotations

import argparse

from core.argtypes import count, duration, positive_int, seed
from core.refine.evaluate import MAX_SUPERSAMPLE, default_workers
from core.refine.refiner import DEFAULT_BUDGET_EVALS, DEFAULT_BUDGET_SECONDS, MIRROR_COMPLETION


def add_search_options(parser: argparse.ArgumentParser, *, scope: str = "", each: str = "") -> None:
    """--budget, --seconds, --workers, --seed, --supersample and --(no-)mirror-completion. scope starts
    each help ("refine: " where the command does more than refine); each ends the budgets' ("per
    target")."""
    parser.add_argument(
        "--budget", type=count, default=DEFAULT_BUDGET_EVALS, help=f"{scope}evaluations{each} (0: none)"
    )
    parser.add_argument(
        "--seconds", type=duration, default=DEFAULT_BUDGET_SECONDS, help=f"{scope}wall time{each} (0: none)"
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=default_workers(),
        help=f"{scope}scoring processes (default: 2, or 1 on one core)",
    )
    parser.add_argument(
        "--seed",
        type=seed,
        default=0,
        help=f"{scope}optimiser seed, 0 to 2³²−1 (another seed: another attempt)",
    )
    parser.add_argument(
        "--supersample",
        type=positive_int,
        choices=range(1, MAX_SUPERSAMPLE + 1),
        metavar="K",
        default=None,
        help="render candidates at k× the working size, averaged down (1 to 4; default: 2 for a design of "
        "strokes thinner than a working pixel, else 1)",
    )
    parser.add_argument(
        "--mirror-completion",
        action=argparse.BooleanOptionalAction,
        default=MIRROR_COMPLETION,
        help=f"{scope}a quarter through, give the match the mirror copies a symmetric design shows and it "
        "lacks, and search from there too (default: on)",
    )


def check_limits(parser: argparse.ArgumentParser, args: argparse.Namespace, what: str = "the run") -> None:
    """Refuse --budget 0 with --seconds 0 (argparse's usage error): a search without an end."""
    if not args.budget and not args.seconds:
        parser.error(f"--budget 0 and --seconds 0 leave {what} without an end: give either a limit")
