"""Operator tasks run from the command line: rebuilding indexes, checking a board exists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta

from leaderboard.boards.periods import period_start, public_period
from leaderboard.boards.repository import BoardRepository
from leaderboard.boards.service import BoardService
from leaderboard.lib.clock import started_at
from leaderboard.lib.db import Database
from leaderboard.lib.errors import NotFoundError
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import close_redis, create_redis
from leaderboard.lib.settings import Settings
from leaderboard.lib.validation import BOARD_ID
from leaderboard.ranking.index import RankIndex
from leaderboard.server.services import build_services, close_services

# (board id, period label) → a progress callback (rows done, rows in all)
ProgressFactory = Callable[[str, str], Callable[[int, int], None]]


async def rebuild_indexes(
    settings: Settings, board_id: str | None, progress: ProgressFactory
) -> list[tuple[str, str, int]]:
    """Rebuild each span's current (and, if it resets, previous) period's index.

    Returns (board id, period, entries) for every index rebuilt.
    """
    assert settings.database_url is not None
    assert settings.redis_url is not None
    db = Database.from_settings(settings)
    await db.open()
    redis = create_redis(settings, settings.redis_url)
    clock = started_at(settings.clock_start)
    services = build_services(db, redis, Keys(settings.redis_key_prefix), settings, clock)
    index, board_service = services.get(RankIndex), services.get(BoardService)
    try:
        boards = (
            [await board_service.get(board_id)]
            if board_id is not None
            else await board_service.list()
        )
        done = []
        for view in (view for board in boards for view in board.views()):  # every span
            current = period_start(view.reset, clock().astimezone(UTC).date())
            periods = [current]
            if view.reset != "never":
                periods.append(period_start(view.reset, current - timedelta(days=1)))
            for period in periods:
                label = str(public_period(period) or "all time")
                if view.span_no:
                    label = f"{view.span} {label}"
                entries = await index.rebuild(view, period, progress(view.id, label))
                done.append((view.id, label, -1 if entries is None else entries))
        return done
    finally:
        # Closes what the services opened beside these two (a replica's pool).
        await close_services(services)
        await close_redis(redis)
        await db.close()


async def require_board(settings: Settings, board_id: str) -> None:
    """NotFoundError (as the API words it) unless the board exists in Postgres."""
    assert settings.database_url is not None
    if BOARD_ID.fullmatch(board_id):
        db = Database.from_settings(settings)
        await db.open()
        try:
            if await BoardRepository(db).exists(board_id):
                return
        finally:
            await db.close()
    raise NotFoundError(f"no leaderboard {board_id[:64]!r}")
