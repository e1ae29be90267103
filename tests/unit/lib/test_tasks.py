"""Background tasks stop at shutdown even when they swallow a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from leaderboard.lib.tasks import Periodic, stop_tasks


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


async def test_a_periodic_job_survives_a_failed_round_and_stops_when_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds: list[int] = []
    done = asyncio.Event()

    async def run_round() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise ConnectionError("redis went away")
        if len(rounds) == 2:
            raise ValueError("a bug")
        done.set()

    job = Periodic("test job", 0.01, run_round, skippable=(ConnectionError,))
    job.start()
    await asyncio.wait_for(done.wait(), 5)
    await asyncio.wait_for(job.close(), 5)
    assert len(rounds) >= 3
    messages = [r.getMessage() for r in caplog.records]
    assert "test job skipped this round: redis went away" in messages
    assert "test job failed this round" in messages
    assert not any("did not stop" in m for m in messages)


async def test_a_woken_periodic_runs_its_next_round_at_once() -> None:
    rounds: list[int] = []
    ran = asyncio.Event()

    async def run_round() -> None:
        rounds.append(len(rounds))
        ran.set()

    periodic = Periodic("test", 3600, run_round)
    periodic.start()
    try:
        periodic.wake()
        await asyncio.wait_for(ran.wait(), 5)  # not an hour
        assert rounds == [0]
    finally:
        await periodic.close()
