"""Progress bars off a terminal: a log keeps a few lines, not every redraw."""

from __future__ import annotations

import io
import json
from pathlib import Path

from core.imageio import save_png
from core.params import sample_params
from core.progress import LOG_INTERVAL_S, is_terminal, progress_bar
from core.refine.cli import main
from core.render import render


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_off_a_terminal_redraws_rarely() -> None:
    log, terminal = io.StringIO(), _Terminal()
    assert not is_terminal(log) and is_terminal(terminal)
    with progress_bar(total=10, file=log) as bar:
        assert bar.mininterval == LOG_INTERVAL_S
    with progress_bar(total=10, file=terminal) as bar:
        assert bar.mininterval < 1.0  # tqdm's own
    with progress_bar(total=10, file=log, mininterval=2.0) as bar:
        assert bar.mininterval == 2.0
    closed = io.StringIO()
    closed.close()
    assert not is_terminal(closed)


def test_refine_to_a_log_leaves_a_few_redraws(tmp_path: Path, capsys) -> None:
    """Every new best loss used to force a redraw: a 40-s run piped to a file left ≈ 1,400 of them."""
    scene = sample_params(30, seed=9000, mode="weighted", n_layers=0)[9]
    target = save_png(render(scene, 96, 54, "exact"), tmp_path / "target.png")
    start = tmp_path / "start.json"
    start.write_text(json.dumps(scene))
    argv = [str(target), "--start", str(start), "--budget", "600", "--workers", "1"]
    argv += ["--out-dir", str(tmp_path)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "600/600" in err  # the final line is there
    assert err.count("\r") <= 4, err
