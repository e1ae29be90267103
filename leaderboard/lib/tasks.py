"""Stopping background tasks at shutdown, whatever they were doing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

# How long one cancellation gets before it is sent again.
RECANCEL_SECONDS = 1.0


async def stop_tasks(tasks: Iterable[asyncio.Task[None]], timeout: float = 5.0) -> bool:
    """Cancel the tasks and wait until they end; False if some outlived ``timeout``.

    A cancellation can be lost: on Python 3.11 ``asyncio.wait_for`` (asyncpg and redis-py
    use it) swallows one that arrives as the awaited call completes, and a background loop
    would then go on for ever. So a task still running a second later is cancelled again,
    and the shutdown goes on after ``timeout`` whatever happens.
    """
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    deadline = asyncio.get_running_loop().time() + timeout
    while pending:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return False
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=min(RECANCEL_SECONDS, left))
    for task in tasks:
        if not task.cancelled():
            task.exception()  # seen here: an error at shutdown is not worth a warning
    return True
