"""core.interrupt: the first Ctrl-C cancels a run (it keeps its best), the second aborts."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from core.interrupt import cancel_on_interrupt


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the handler runs in the main thread at its next bytecode


def test_first_ctrl_c_cancels_second_aborts_and_the_old_handler_comes_back(capsys) -> None:
    before = signal.getsignal(signal.SIGINT)
    calls: list[str] = []
    with (
        pytest.raises(KeyboardInterrupt),
        cancel_on_interrupt(lambda: calls.append("cancel"), "the test run") as interrupted,
    ):
        assert not interrupted()
        _ctrl_c()
        assert calls == ["cancel"] and interrupted()
        assert "stopping the test run: keeping the best so far" in capsys.readouterr().err
        _ctrl_c()
    assert calls == ["cancel"]  # the second Ctrl-C did not cancel again: it raised
    assert signal.getsignal(signal.SIGINT) is before


def test_outside_the_main_thread_it_changes_nothing() -> None:
    before = signal.getsignal(signal.SIGINT)
    seen: list[object] = []

    def run() -> None:
        with cancel_on_interrupt(lambda: None) as interrupted:
            seen.extend([signal.getsignal(signal.SIGINT), interrupted()])

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert seen == [before, False]
