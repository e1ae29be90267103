"""Background tasks stop at shutdown even when they swallow a cancellation."""

from __future__ import annotations

import asyncio

from leaderboard.lib.tasks import stop_tasks


async def test_a_task_that_swallows_one_cancellation_is_cancelled_again() -> None:
    swallowed = 0

    async def loop() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1  # as a lost cancellation would leave the loop running

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    assert await stop_tasks([task])
    assert task.cancelled()
    assert swallowed == 1


async def test_a_task_that_never_stops_does_not_hold_the_shutdown() -> None:
    stop = asyncio.Event()

    async def stubborn() -> None:
        while not stop.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert not await stop_tasks([task], timeout=0.2)
    assert not task.done()
    stop.set()
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    assert task.done()


async def test_finished_and_failed_tasks_are_fine() -> None:
    async def fail() -> None:
        raise RuntimeError("boom")

    failed = asyncio.create_task(fail())
    await asyncio.wait({failed})
    assert await stop_tasks([failed])
    assert await stop_tasks([])
