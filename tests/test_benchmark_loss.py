"""The loss benchmark runs, and its two ways of computing the loss agree (its timings are not asserted)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks.loss import main


def test_loss_benchmark_times_both_losses_and_finds_them_equal(tmp_path: Path) -> None:
    out = tmp_path / "loss.json"
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    assert main(["--n", "3", "--json", str(out)]) == 0
    if cores is not None:
        assert os.sched_getaffinity(0) == cores  # pinned while timing, given back after
    result = json.loads(out.read_text())
    assert result["size"] == [160, 90] and result["command"].endswith("--n 3 --json " + str(out))
    assert set(result["render_ms"]) == {"exact", "fast", "draft"}
    timed = (*result["loss_ms"].values(), *result["ssim_ms"].values(), *result["blur_ms"].values())
    assert len(timed) == 6 and all(v > 0 for v in timed)
    assert result["loss_max_difference"] < 1e-5
