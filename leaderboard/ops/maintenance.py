"""Operator tasks run from the command line: rebuilding indexes, checking a board exists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from leaderboard.boards.board_repository import BoardRepository
from leaderboard.boards.board_service import BOARD_ID
from leaderboard.boards.periods import period_start, public_period
from leaderboard.lib.db import Database
from leaderboard.lib.errors import NotFoundError
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import close_redis, create_redis
from leaderboard.lib.settings import Settings
from leaderboard.server.services import Services

# (board id, period label) → a progress callback (rows done, rows in all)
ProgressFactory = Callable[[str, str], Callable[[int, int], None]]


async def rebuild_indexes(
    settings: Settings, board_id: str | None, progress: ProgressFactory
) -> list[tuple[str, str, int]]:
    """Rebuild the current (and, on resetting boards, the previous) period's index.

    Returns (board id, period, entries) for every index rebuilt.
    """
    assert settings.database_url is not None
    assert settings.redis_url is not None
    db = Database.from_settings(settings)
    await db.open()
    redis = create_redis(settings, settings.redis_url)
    services = Services.build(db, redis, Keys(settings.redis_key_prefix), settings)
    try:
        boards = (
            [await services.boards.get(board_id)]
            if board_id is not None
            else await services.boards.list()
        )
        done = []
        for board in boards:
            current = period_start(board.reset, services.locator.today())
            periods = [current]
            if board.reset != "never":
                periods.append(period_start(board.reset, current - timedelta(days=1)))
            for period in periods:
                label = str(public_period(period) or "all time")
                entries = await services.rebuilder.rebuild(board, period, progress(board.id, label))
                done.append((board.id, label, -1 if entries is None else entries))
        return done
    finally:
        # Closes what the services opened beside these two (a replica's pool).
        await services.close()
        await close_redis(redis)
        await db.close()


async def require_board(settings: Settings, board_id: str) -> None:
    """NotFoundError (as the API words it) unless the board exists in Postgres."""
    assert settings.database_url is not None
    if BOARD_ID.match(board_id):
        db = Database.from_settings(settings)
        await db.open()
        try:
            if await BoardRepository(db).exists(board_id):
                return
        finally:
            await db.close()
    raise NotFoundError(f"no leaderboard {board_id[:64]!r}")
