"""Committed scores that missed the index (Redis was down): applied once it is back.

The guard repairs them too, from any worker, if this one dies first (guard.py); this
brings them back within seconds of the outage's end instead of a round later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date

from leaderboard.boards.models import Board
from leaderboard.lib.errors import DependencyUnavailableError, NotFoundError
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.tasks import stop_tasks

logger = logging.getLogger(__name__)

# How long a worker keeps trying to apply a committed score that missed the index.
REPAIR_FOR_SECONDS = 600
# What a retry outlasts (the dependency comes back), rather than gives up on.
_RETRIED: tuple[type[Exception], ...] = (DependencyUnavailableError, *REDIS_OUTAGE_ERRORS)

ApplyStored = Callable[[Board, date, str], Awaitable[object]]


class LateWrites:
    def __init__(self, apply_stored: ApplyStored) -> None:
        self._apply_stored = apply_stored
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, board: Board, period: date, player_id: str) -> None:
        task = asyncio.create_task(self._apply_when_back(board, period, player_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        """Stop retrying (shutdown); the guard repairs what was left."""
        await stop_tasks(list(self._tasks))

    async def _apply_when_back(self, board: Board, period: date, player_id: str) -> None:
        delay = 0.5
        deadline = asyncio.get_running_loop().time() + REPAIR_FOR_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(delay)
            try:
                await self._apply_stored(board, period, player_id)
                return
            except NotFoundError:  # the player was deleted meanwhile: nothing to apply
                return
            except _RETRIED:
                delay = min(delay * 2, 30.0)
        logger.error(
            "gave up applying %s's score on %s; run `leaderboard rebuild %s`",
            player_id,
            board.id,
            board.id,
        )
