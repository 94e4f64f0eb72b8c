"""RenderPool: bounded, parallel, off the event loop, and honest about slots when callers go away."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time

import numpy as np
import pytest
from PIL import Image

from app.api.pool import PoolBusy, RenderPool
from app.api.worker import render_image
from core.render import render


class Gate:
    """A job that records how many run at once and blocks until released."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.release = threading.Event()

    def __call__(self, value: int) -> int:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            self.release.wait(10)
            return value * 2
        finally:
            with self.lock:
                self.running -= 1


async def until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


def test_runs_at_most_workers_at_once_and_all_in_parallel() -> None:
    gate = Gate()
    pool = RenderPool("thread", workers=3, max_waiting=10)

    async def main() -> list[int]:
        tasks = [asyncio.create_task(pool.run(gate, i)) for i in range(7)]
        await until(lambda: gate.running == 3)
        assert (pool.busy, pool.waiting) == (3, 4)
        await asyncio.sleep(0.05)
        assert gate.running == 3  # the other four wait on the loop, not inside the executor
        gate.release.set()
        return await asyncio.gather(*tasks)

    try:
        assert asyncio.run(main()) == [0, 2, 4, 6, 8, 10, 12]
    finally:
        pool.close()
    assert gate.peak == 3
    assert (pool.busy, pool.waiting, pool.done, pool.failed) == (0, 0, 7, 0)


def test_a_full_waiting_line_is_refused_at_once() -> None:
    gate = Gate()
    pool = RenderPool("thread", workers=1, max_waiting=1)

    async def main() -> None:
        first = asyncio.create_task(pool.run(gate, 1))
        second = asyncio.create_task(pool.run(gate, 2))
        await until(lambda: (pool.busy, pool.waiting) == (1, 1))
        with pytest.raises(PoolBusy, match="1 render workers are busy"):
            await pool.run(gate, 3)
        gate.release.set()
        assert await asyncio.gather(first, second) == [2, 4]

    try:
        asyncio.run(main())
    finally:
        pool.close()


def test_a_cancelled_caller_keeps_its_slot_until_the_worker_finishes() -> None:
    gate = Gate()
    pool = RenderPool("thread", workers=1, max_waiting=4)

    async def main() -> None:
        task = asyncio.create_task(pool.run(gate, 1))
        await until(lambda: gate.running == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        later = asyncio.create_task(pool.run(gate, 5))
        await asyncio.sleep(0.05)
        assert (pool.busy, pool.waiting, gate.running) == (1, 1, 1)  # still bounded by the running job
        gate.release.set()
        assert await later == 10
        assert gate.peak == 1

    try:
        asyncio.run(main())
    finally:
        pool.close()


def test_errors_reach_the_caller_and_are_counted() -> None:
    pool = RenderPool("thread", workers=1)

    async def main() -> None:
        with pytest.raises(ZeroDivisionError):
            await pool.run(lambda: 1 / 0)
        assert await pool.run(lambda: 7) == 7

    try:
        asyncio.run(main())
    finally:
        pool.close()
    assert (pool.done, pool.failed, pool.busy) == (1, 1, 0)


def test_the_event_loop_stays_free_while_workers_render() -> None:
    pool = RenderPool("thread", workers=1)

    async def main() -> float:
        job = asyncio.create_task(pool.run(time.sleep, 0.5))
        await asyncio.sleep(0.01)
        start = time.monotonic()
        for _ in range(10):
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - start
        await job
        return elapsed

    try:
        assert asyncio.run(main()) < 0.4
    finally:
        pool.close()


def test_process_pool_renders_the_same_bytes_in_another_process() -> None:
    pool = RenderPool("process", workers=1)

    async def main() -> tuple[int, tuple[bytes, float]]:
        pid = await pool.run(os.getpid)
        return pid, await pool.run(render_image, {"repetitions": 12}, 48, 40, "png")

    try:
        pid, (data, seconds) = asyncio.run(main())
    finally:
        pool.close()
    assert pid != os.getpid()
    assert seconds > 0
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), render({"repetitions": 12}, 48, 40))


@pytest.mark.parametrize(
    "kwargs", [{"kind": "fork"}, {"workers": 0}, {"max_waiting": -1}], ids=["kind", "workers", "waiting"]
)
def test_bad_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        RenderPool(**kwargs)
