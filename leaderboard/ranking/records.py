"""What the index is built and checked from: the `scores` rows of a board period, read.

The record side of the Redis index (docs/ranking.md): rebuilds stream a period from one
snapshot (a fenced replica may serve it: lib/replica.py), the index guard compares slices
of it, and name search finds players on it. Writes belong to the write path (scores/).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

from asyncpg import Record

from leaderboard.boards.models import Board
from leaderboard.lib.db import Database
from leaderboard.lib.replica import ReadReplica

# A period's rows; a segment's: those of one country's players.
# A span's rows (``span``: the board's span_no; a board view's, see boards/models.py).
_ROWS = """
    SELECT player_id::text, score, reached_seq FROM scores
     WHERE leaderboard_id = $1 AND span = $2 AND period_start = $3 AND NOT hidden
"""
_COUNTRY_ROWS = """
    SELECT s.player_id::text, s.score, s.reached_seq
      FROM scores s JOIN players p ON p.id = s.player_id
     WHERE s.leaderboard_id = $1 AND s.span = $2 AND s.period_start = $3 AND NOT s.hidden
       AND p.country = $4
"""


_COUNT = "SELECT count(*) FROM (" + _ROWS + ") AS r"
_COUNTRY_COUNT = "SELECT count(*) FROM (" + _COUNTRY_ROWS + ") AS r"


def _rows_of(country: str | None) -> str:
    return _ROWS if country is None else _COUNTRY_ROWS


def _row_args(board: Board, period: date, country: str | None) -> tuple[object, ...]:
    args = (board.id, board.span_no, period)
    return args if country is None else (*args, country)


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A player's row as Postgres holds it now: what the index must hold for them."""

    score: int
    reached_seq: int


class ScoreRecords:
    def __init__(self, db: Database, reads: ReadReplica | None = None) -> None:
        self._db = db
        # Rebuilds (count and stream) may read a replica, fenced: see lib/replica.py.
        self._reads = reads or ReadReplica(db, None)

    async def stored(self, board: Board, period: date, player_id: str) -> StoredEntry | None:
        row = await self._db.fetchrow(
            """
            SELECT score, reached_seq FROM scores
             WHERE leaderboard_id = $1 AND span = $4 AND period_start = $2 AND player_id = $3
               AND NOT hidden
            """,
            board.id,
            period,
            player_id,
            board.span_no,
        )
        return StoredEntry(row["score"], row["reached_seq"]) if row else None

    async def count(self, board: Board, period: date, country: str | None = None) -> int:
        """The period's rows (a rebuild's progress: read where the rebuild reads)."""
        rows = await self._reads.fetch(
            _COUNT if country is None else _COUNTRY_COUNT,
            *_row_args(board, period, country),
            kind="scan",
        )
        return int(rows[0][0])

    async def stream(
        self, board: Board, period: date, batch_size: int = 5000, country: str | None = None
    ) -> AsyncIterator[list[tuple[str, int, int]]]:
        """Every (player id, score, reached_seq) of a period, in batches, from one snapshot.

        The snapshot sees every commit acknowledged before the call (the rebuild took its
        lock before calling: later changes reach the index through the journal), whether
        a replica or the primary serves it. One cursor: one snapshot for all its batches.
        ``country``: only the rows of that country's players (a segment's index).
        """
        async with self._reads.snapshot() as conn:
            cursor = await conn.cursor(_rows_of(country), *_row_args(board, period, country))
            while True:
                rows = await cursor.fetch(batch_size)
                if not rows:
                    return
                yield [(row[0], row[1], row[2]) for row in rows]

    async def country_of(self, player_id: str) -> str | None:
        """The player's profile country (which segment their entries are in), if any."""
        value = await self._db.fetchval("SELECT country FROM players WHERE id = $1", player_id)
        return None if value is None else str(value)

    async def segmented_entries(self, player_id: str) -> list[tuple[str, int, date, int, int]]:
        """(board id, span_no, period, score, reached_seq): the player's segmented rows."""
        rows = await self._db.fetch(
            """
            SELECT s.leaderboard_id, s.span, s.period_start, s.score, s.reached_seq
              FROM scores s JOIN leaderboards l ON l.id = s.leaderboard_id
             WHERE s.player_id = $1 AND NOT s.hidden AND cardinality(l.segments) > 0
            """,
            player_id,
        )
        return [(row[0], row[1], row[2], row[3], row[4]) for row in rows]

    async def has_entries(self, board: Board, period: date) -> bool:
        value = await self._db.fetchval(
            """
            SELECT EXISTS (SELECT 1 FROM scores
                            WHERE leaderboard_id = $1 AND span = $3 AND period_start = $2
                              AND NOT hidden)
            """,
            board.id,
            period,
            board.span_no,
        )
        return bool(value)

    async def rows_after(
        self, board: Board, period: date, after_player: str, limit: int
    ) -> list[CheckedRow]:
        """The next ``limit`` rows by player id after ``after_player`` ("" from the start).

        A range scan of the primary key: the rolling check reads a board a slice at a time.
        """
        after_player = after_player or FIRST_PLAYER
        rows = await self._db.fetch(
            ROWS_AFTER_SQL,
            board.id,
            period,
            after_player,
            limit,
            board.span_no,
        )
        return [checked_row(row) for row in rows]

    async def rows_of(self, board: Board, period: date, players: list[str]) -> list[CheckedRow]:
        """The rows of ``players`` that exist."""
        rows = await self._db.fetch(
            f"""
            SELECT {_CHECKED_COLUMNS} FROM scores
             WHERE leaderboard_id = $1 AND span = $4 AND period_start = $2
               AND player_id = ANY($3::uuid[]) AND NOT hidden
            """,
            board.id,
            period,
            players,
            board.span_no,
        )
        return [checked_row(row) for row in rows]

    async def players_named(self, board: Board, period: date, prefix: str, limit: int) -> list[str]:
        """Players with an entry whose display name starts with ``prefix`` (any case)."""
        pattern = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._db.fetch(
            """
            SELECT p.id::text AS player_id FROM players p
              JOIN scores s ON s.player_id = p.id
             WHERE s.leaderboard_id = $1 AND s.span = $5 AND s.period_start = $2
               AND NOT s.hidden AND lower(p.display_name) LIKE $3 || '%'
             ORDER BY lower(p.display_name), p.id
             LIMIT $4
            """,
            board.id,
            period,
            pattern,
            limit,
            board.span_no,
        )
        return [row["player_id"] for row in rows]


@dataclass(frozen=True, slots=True)
class CheckedRow:
    """A score row as the index check compares it."""

    player_id: str
    score: int
    reached_seq: int
    settled: bool
    """Unchanged for a few seconds: its index write, if any, has had time to land."""


# Below every player id (ids are random UUIDs, never this one).
FIRST_PLAYER = "00000000-0000-0000-0000-000000000000"
# A row changed less than this long ago may still be on its way to the index.
SETTLE_SECONDS = 5


def checked_columns(table: str = "") -> str:
    """The columns a CheckedRow is read from (of ``table``, an alias, if given)."""
    t = f"{table}." if table else ""
    return (
        f"{t}player_id::text AS player_id, {t}score AS score, {t}reached_seq AS reached_seq, "
        f"{t}updated_at < now() - interval '{SETTLE_SECONDS} seconds' AS settled"
    )


_CHECKED_COLUMNS = checked_columns()

# ``scores.player_id``, not ``player_id``: ORDER BY takes a bare name for the output
# column first, which is ``player_id::text``. Ordered by that text, no index applied and
# every slice of a 10 M board was a parallel scan and sort of the whole board (3.4 s).
ROWS_AFTER_SQL = f"""
    SELECT {_CHECKED_COLUMNS} FROM scores
     WHERE leaderboard_id = $1 AND span = $5 AND period_start = $2
       AND player_id > $3::uuid AND NOT hidden
     ORDER BY scores.player_id LIMIT $4
"""


def checked_row(row: Record) -> CheckedRow:
    return CheckedRow(row["player_id"], row["score"], row["reached_seq"], row["settled"])
