"""Scores in Postgres, read: the record the Redis indexes are built from.

Writes go through ``score_writer.py`` (group commit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

from leaderboard.boards.score_writer import StoredScore
from leaderboard.lib.db import Connection, Database


class ScoreRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def stored(self, board_id: str, period: date, player_id: str) -> StoredScore | None:
        row = await self._db.fetchrow(
            """
            SELECT score, reached_seq, false AS changed FROM scores
             WHERE leaderboard_id = $1 AND period_start = $2 AND player_id = $3
            """,
            board_id,
            period,
            player_id,
        )
        return StoredScore(row["score"], row["reached_seq"], False) if row else None

    async def player_entries(self, conn: Connection, player_id: str) -> list[tuple[str, date]]:
        """The (board, period) pairs a player has entries in, locked until the caller commits."""
        rows = await conn.fetch(
            "SELECT leaderboard_id, period_start FROM scores WHERE player_id = $1 FOR UPDATE",
            player_id,
        )
        return [(row["leaderboard_id"], row["period_start"]) for row in rows]

    async def count(self, board_id: str, period: date) -> int:
        value = await self._db.fetchval(
            "SELECT count(*) FROM scores WHERE leaderboard_id = $1 AND period_start = $2",
            board_id,
            period,
        )
        return int(value)

    async def stream(
        self, board_id: str, period: date, batch_size: int = 5000
    ) -> AsyncIterator[list[tuple[str, int, int]]]:
        """Every (player id, score, reached_seq) of a period, in batches, from one snapshot."""
        async with (
            self._db.connection() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            cursor = await conn.cursor(
                """
                SELECT player_id::text, score, reached_seq FROM scores
                 WHERE leaderboard_id = $1 AND period_start = $2
                """,
                board_id,
                period,
            )
            while True:
                rows = await cursor.fetch(batch_size)
                if not rows:
                    return
                yield [(row[0], row[1], row[2]) for row in rows]
