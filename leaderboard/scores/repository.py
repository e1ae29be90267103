"""Writes to `scores` outside the group commit: entries removed, hidden, shown; old keys.

Submissions are written by writer.py (group commit); the index reads the rows through
ranking/records.py.
"""

from __future__ import annotations

from datetime import date

from leaderboard.lib.db import Connection, Database
from leaderboard.scores.writer import StoredScore


class ScoreRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def player_entries(self, conn: Connection, player_id: str) -> list[tuple[str, date]]:
        """The (board, period) pairs a player has entries in, locked until the caller commits."""
        rows = await conn.fetch(
            "SELECT leaderboard_id, period_start FROM scores WHERE player_id = $1 FOR UPDATE",
            player_id,
        )
        return [(row["leaderboard_id"], row["period_start"]) for row in rows]

    async def player_country(self, conn: Connection, player_id: str) -> str | None:
        """The player's profile country (which country index holds their entries)."""
        value = await conn.fetchval("SELECT country FROM players WHERE id = $1", player_id)
        return None if value is None else str(value)

    async def delete_entry(
        self, conn: Connection, board_id: str, period: date, player_id: str
    ) -> StoredScore | None:
        """Delete one entry inside the caller's transaction; what it held, or None."""
        row = await conn.fetchrow(
            """
            DELETE FROM scores
             WHERE leaderboard_id = $1 AND period_start = $2 AND player_id = $3
            RETURNING score, reached_seq
            """,
            board_id,
            period,
            player_id,
        )
        return StoredScore(row["score"], row["reached_seq"], True) if row else None

    async def set_hidden(
        self, conn: Connection, player_id: str, hidden: bool
    ) -> list[tuple[str, date, int, int]]:
        """Hide (ban) or show (unban) a player's rows; (board, period, score, seq) of each."""
        rows = await conn.fetch(
            """
            UPDATE scores SET hidden = $2 WHERE player_id = $1
            RETURNING leaderboard_id, period_start, score, reached_seq
            """,
            player_id,
            hidden,
        )
        return [
            (row["leaderboard_id"], row["period_start"], row["score"], row["reached_seq"])
            for row in rows
        ]

    async def delete_expired_keys(self, older_than_hours: int = 24, limit: int = 5000) -> int:
        """Forget Idempotency-Keys past their 24 hours, a bounded batch at a time."""
        result = await self._db.execute(
            """
            DELETE FROM idempotency_keys WHERE ctid IN (
                SELECT ctid FROM idempotency_keys
                 WHERE created_at < now() - make_interval(hours => $1) LIMIT $2)
            """,
            older_than_hours,
            limit,
        )
        return int(result.split()[-1])
