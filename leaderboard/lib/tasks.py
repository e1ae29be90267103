"""Stopping background tasks at shutdown, whatever they were doing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

logger = logging.getLogger(__name__)

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


class Periodic:
    """``run_round()`` every ``interval`` seconds in a background task, until closed.

    A round that fails is logged and the next one runs: a ``skippable`` error (an outage)
    as a warning, anything else with its traceback. ``wake()`` starts the next round now.
    """

    def __init__(
        self,
        name: str,
        interval: float,
        run_round: Callable[[], Awaitable[object]],
        *,
        skippable: tuple[type[Exception], ...] = (),
    ) -> None:
        self.name = name
        self._interval = interval
        self._run_round = run_round
        self._skippable = skippable
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def close(self) -> None:
        if self._task is not None:
            if not await stop_tasks([self._task]):
                logger.error("%s did not stop; shutting down without it", self.name)
            self._task = None

    def wake(self) -> None:
        """Run the next round now rather than at the end of the interval."""
        self._woken.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._interval)
            self._woken.clear()
            try:
                await self._run_round()
            except self._skippable as exc:
                logger.warning("%s skipped this round: %s", self.name, exc)
            except Exception:
                logger.exception("%s failed this round", self.name)
