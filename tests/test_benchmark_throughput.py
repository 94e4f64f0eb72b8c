"""The throughput benchmark runs per worker count and accounts for its CPU (its rates are not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.throughput import main


def test_throughput_benchmark_reports_each_worker_count(tmp_path: Path) -> None:
    out = tmp_path / "throughput.json"
    # 4 s: spawned workers (macOS, core.workers.start_method) take ≈ 2 s here to start scoring
    assert main(["--n", "1", "--seconds", "4", "--workers", "1,2", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["start_method"] in ("fork", "spawn")
    (row,) = result["targets"].values()
    assert set(row) == {"1", "2"}
    assert all(run["evaluations"] > 1 and run["per_second"] > 0 for run in row.values())
    assert row["1"]["cpu_s_workers"] == 0  # one worker scores in this process
    assert row["2"]["cpu_s_workers"] > 0
    assert result["summary"]["1"]["median_ratio_to_one_worker"] == 1.0
    assert result["summary"]["2"]["median_ratio_to_one_worker"] > 0


@pytest.mark.parametrize("bad", [["--workers", "0"], ["--seconds", "0"], ["--n", "0"], ["--workers", ","]])
def test_throughput_benchmark_rejects_bad_arguments(bad: list[str]) -> None:
    with pytest.raises(SystemExit) as error:
        main(bad)
    assert error.value.code == 2
