"""benchmarks.app_refine: reads the finished status, refuses to start without a browser."""

from __future__ import annotations

import pytest

from benchmarks import app_refine


def test_the_finished_status_gives_the_figures() -> None:
    status = "Done (time budget reached, seed 1): 4895 evaluations in 40.7 s; score 0.5 → 0.7"
    assert app_refine._figures(status) == {"evaluations": 4895, "seconds": 40.7, "eval_per_s": 120.3}
    with pytest.raises(SystemExit, match="no finished refine"):
        app_refine._figures("Refining… 300 evaluations")


def test_no_browser_is_one_line(tmp_path, capsys) -> None:
    assert app_refine.main(["--chromium", str(tmp_path / "absent")]) == 2
    assert "no Chromium at" in capsys.readouterr().err


def test_the_in_process_half_runs_to_its_time_budget() -> None:
    """The benchmark gave the app 10⁷ evaluations, which the app refuses since it bounds budgets: its status
    never said "Done" and the run could not finish (a check of the README's commands)."""
    figures = app_refine.in_process(app_refine.DEFAULT_TARGET, seconds=3.0)
    assert figures["evaluations"] > 0 and figures["seconds"] >= 2.5, figures
