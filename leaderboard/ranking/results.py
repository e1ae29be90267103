"""Final standings of ended periods, frozen once, so that a player's history is one query.

When a period of a resetting board has ended (and a minute more, for submissions still
committing across midnight), one worker freezes it: a single ``INSERT … SELECT`` ranks
the period's rows with window functions into ``period_results`` and marks the period in
``period_closes`` in the same statement, so a period is frozen once whatever the number
of workers (the retention job runs it under its lease: scores/retention.py). Moderation
after the end (an entry removed, a ban, an unban, a deleted player) freezes the period
again: its rows are replaced whole. A per-period advisory lock orders a freeze and a
re-freeze, so neither may keep standings older than the other's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from asyncpg import Record

from leaderboard.boards.models import Board, RankStyle
from leaderboard.boards.periods import ALL_TIME, period_end, period_start
from leaderboard.lib.clock import Clock
from leaderboard.lib.db import Connection, Database

logger = logging.getLogger(__name__)

# A submission accepted just before midnight may commit just after: wait this long.
SETTLE = timedelta(minutes=1)
# Serializes a period's freeze and re-freeze (class: 'PR' + 'ES'; key: the period).
_LOCK = (
    "SELECT pg_advisory_xact_lock(x'50524553'::int,"
    " hashtext($1::text || '/' || $2::text || '/' || $3::text))"
)
# The ended periods of a board that hold rows and are not frozen yet: those after the
# newest frozen one ($2) and before the current one ($3). Usually none or one, whose rows
# the freeze reads anyway.
_UNFROZEN = """
    SELECT DISTINCT period_start FROM scores
     WHERE leaderboard_id = $1 AND period_start > $2 AND period_start < $3
     ORDER BY period_start
"""
_NEWEST_FROZEN = """
    SELECT max(period_start) FROM period_closes WHERE leaderboard_id = $1 AND span = $2
"""


# Freeze a period: its standings, and its row in ``period_closes``. Once: nothing when the
# period is frozen already, unless $5 (again: moderation changed it, and the caller
# deleted its standings in the same transaction).
_FREEZE = """
    WITH ranked AS (
        SELECT player_id, score,
               row_number() OVER (ORDER BY key, reached_seq) AS rank,
               rank() OVER (ORDER BY key) AS competition_rank,
               dense_rank() OVER (ORDER BY key) AS dense_rank,
               count(*) OVER () AS total
          FROM (SELECT player_id, score, reached_seq,
                       CASE WHEN $4::boolean THEN -score ELSE score END AS key
                  FROM scores
                 WHERE leaderboard_id = $1 AND period_start = $3 AND NOT hidden) AS entries
    ),
    closed AS (
        INSERT INTO period_closes AS c (leaderboard_id, span, period_start, entries)
        SELECT $1, $2, $3, count(*) FROM ranked
        ON CONFLICT (leaderboard_id, span, period_start) DO UPDATE
           SET entries = EXCLUDED.entries, closed_at = now()
         WHERE $5::boolean
        RETURNING c.entries
    )
    INSERT INTO period_results
        (leaderboard_id, span, period_start, player_id, score, rank, competition_rank,
         dense_rank, total)
    SELECT $1, $2, $3, player_id, score, rank, competition_rank, dense_rank, total
      FROM ranked WHERE EXISTS (SELECT 1 FROM closed)
"""
# A player's periods on a board, newest first, with their frozen standings ($5: the rank
# style) and the best frozen rank of them all (the newest period of equal ones).
_HISTORY = """
    WITH periods AS (
        SELECT s.period_start, s.score, r.rank AS position, r.total,
               CASE $5::text WHEN 'competition' THEN r.competition_rank
                             WHEN 'dense' THEN r.dense_rank
                             ELSE r.rank END AS shown
          FROM scores s
          LEFT JOIN period_results r
            ON r.player_id = s.player_id AND r.leaderboard_id = s.leaderboard_id
           AND r.span = $3 AND r.period_start = s.period_start
         WHERE s.player_id = $2 AND s.leaderboard_id = $1 AND NOT s.hidden
    )
    SELECT period_start, score, shown, position, total,
           min(shown) OVER () AS best_rank,
           first_value(period_start) OVER (
               ORDER BY shown NULLS LAST, period_start DESC) AS best_period
      FROM periods
     ORDER BY period_start DESC
     LIMIT $4
"""


@dataclass(frozen=True, slots=True)
class PeriodRow:
    """One period of a player's history as Postgres holds it."""

    period: date
    score: int
    rank: int | None
    """Frozen rank in the asked style; None: not frozen (the current period, or one that
    just ended): the index has it."""
    position: int | None
    """Frozen ordinal rank (for the percentile)."""
    total: int | None


@dataclass(frozen=True, slots=True)
class HistoryRows:
    periods: list[PeriodRow]
    best: tuple[date, int] | None
    """The best frozen rank of any of the player's periods, and its (newest) period."""


class PeriodResults:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def freeze_ended(self, board: Board) -> list[date]:
        """Freeze the board's ended periods not frozen yet; the periods this call froze."""
        if board.reset == "never":
            return []
        newest = await self._db.fetchval(_NEWEST_FROZEN, board.id, board.reset)
        now = self._clock()
        current = period_start(board.reset, now.astimezone(UTC).date())
        rows = await self._db.fetch(_UNFROZEN, board.id, newest or ALL_TIME, current)
        frozen = []
        for period in (row["period_start"] for row in rows):
            end = period_end(board.reset, period)
            if end is None or datetime.combine(end, time(), UTC) + SETTLE > now:
                continue  # the current period, or one still settling
            async with self._db.transaction() as conn:
                await self._lock(conn, board, period)
                result = await conn.execute(
                    _FREEZE, board.id, board.reset, period, board.order == "desc", False
                )
            if result.split()[-1] != "0" or await self._is_frozen(board, period):
                frozen.append(period)
                logger.info("froze %s period %s", board.id, period.isoformat())
        return frozen

    async def changed(self, board: Board, period: date) -> bool:
        """Moderation changed a period's rows: freeze it again if it was frozen."""
        if board.reset == "never":
            return False
        async with self._db.transaction() as conn:
            await self._lock(conn, board, period)
            if not await conn.fetchval(
                "SELECT 1 FROM period_closes"
                " WHERE leaderboard_id = $1 AND span = $2 AND period_start = $3",
                board.id,
                board.reset,
                period,
            ):
                return False  # not frozen: its freeze reads the rows as they are then
            await conn.execute(
                "DELETE FROM period_results"
                " WHERE leaderboard_id = $1 AND span = $2 AND period_start = $3",
                board.id,
                board.reset,
                period,
            )
            await conn.execute(_FREEZE, board.id, board.reset, period, board.order == "desc", True)
        return True

    async def forget_before(self, board: Board, cutoff: date) -> None:
        """Retention dropped the periods before ``cutoff``: their standings go too."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "DELETE FROM period_results WHERE leaderboard_id = $1 AND period_start < $2",
                board.id,
                cutoff,
            )
            await conn.execute(
                "DELETE FROM period_closes WHERE leaderboard_id = $1 AND period_start < $2",
                board.id,
                cutoff,
            )

    async def history(
        self, board: Board, player_id: str, limit: int, style: RankStyle
    ) -> HistoryRows:
        """The player's periods on the board, newest first, with their frozen standings."""
        rows = await self._db.fetch(_HISTORY, board.id, player_id, board.reset, limit, style)
        return HistoryRows(
            periods=[_period_row(row) for row in rows],
            best=(rows[0]["best_period"], rows[0]["best_rank"])
            if rows and rows[0]["best_rank"] is not None
            else None,
        )

    async def _is_frozen(self, board: Board, period: date) -> bool:
        return bool(
            await self._db.fetchval(
                "SELECT 1 FROM period_closes"
                " WHERE leaderboard_id = $1 AND span = $2 AND period_start = $3",
                board.id,
                board.reset,
                period,
            )
        )

    @staticmethod
    async def _lock(conn: Connection, board: Board, period: date) -> None:
        await conn.execute(_LOCK, board.id, board.reset, period.isoformat())


def _period_row(row: Record) -> PeriodRow:
    return PeriodRow(
        period=row["period_start"],
        score=row["score"],
        rank=row["shown"],
        position=row["position"],
        total=row["total"],
    )
