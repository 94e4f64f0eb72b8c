"""Every command line's --help says each option's default (core.helptext)."""

from __future__ import annotations

import argparse

import pytest

from core.helptext import DefaultsHelpFormatter
from core.refine.refiner import DEFAULT_BUDGET_EVALS


def _help(parser: argparse.ArgumentParser) -> str:
    return " ".join(parser.format_help().split())  # argparse wraps lines at the terminal's width


def test_an_option_says_its_default_unless_its_help_already_does() -> None:
    parser = argparse.ArgumentParser(formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--budget", type=int, default=500, help="evaluations")
    parser.add_argument("--seed", type=int, default=0, help="optimiser seed")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--method", default="cma")
    text = _help(parser)
    assert "evaluations (default: 500)" in text
    assert "optimiser seed (default: 0)" in text  # 0 is a value, not "nothing"
    assert "port (default 7860)" in text and "(default: 7860)" not in text
    assert "--method METHOD default: cma" in text


def test_nothing_is_said_for_an_absent_or_off_default() -> None:
    parser = argparse.ArgumentParser(formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--db", help="data folder")
    parser.add_argument("--list", action="store_true", help="list and exit")
    parser.add_argument("--data", nargs="*", default=[], help="shard folders")
    parser.add_argument("--shard", type=int, nargs=2, default=(0, 1), help="i n")
    parser.add_argument("target", help="image")
    text = _help(parser)
    assert "default" not in text.replace("show this help message", "")


def test_a_description_keeps_its_line_breaks() -> None:
    parser = argparse.ArgumentParser(
        description="usage:\n    run A\n    run B", formatter_class=DefaultsHelpFormatter
    )
    assert "usage:\n    run A\n    run B" in parser.format_help()


@pytest.mark.parametrize("module", ["core.refine.cli", "train.validate"])
def test_the_refine_budget_is_said_in_help(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    main = __import__(module, fromlist=["main"]).main
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    assert f"(default: {DEFAULT_BUDGET_EVALS})" in " ".join(capsys.readouterr().out.split())
