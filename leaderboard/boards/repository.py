"""Leaderboards and scores in Postgres: the record the Redis indexes are built from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg

from leaderboard.boards.models import Board, BoardCreate, RateLimitConfig
from leaderboard.boards.score_writer import ScoreWriter, StoredScore, Submission
from leaderboard.db import Connection, Database
from leaderboard.errors import ConflictError

_BOARD_COLUMNS = (
    "id, name, sort_order, operator, reset, rate_limit, rate_window_seconds, metadata, created_at"
)


def to_board(row: asyncpg.Record) -> Board:
    return Board(
        id=row["id"],
        name=row["name"],
        order=row["sort_order"],
        operator=row["operator"],
        reset=row["reset"],
        rate_limit=RateLimitConfig(
            limit=row["rate_limit"], window_seconds=row["rate_window_seconds"]
        ),
        metadata=row["metadata"],
        created_at=row["created_at"],
    )


class BoardRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Concurrent submissions share statements and commits (score_writer.py).
        self._writer = ScoreWriter(db)

    async def create(self, conn: Connection, spec: BoardCreate) -> Board:
        try:
            row = await conn.fetchrow(
                f"""
                INSERT INTO leaderboards
                    (id, name, sort_order, operator, reset, rate_limit, rate_window_seconds,
                     metadata)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                RETURNING {_BOARD_COLUMNS}
                """,
                spec.id,
                spec.name or spec.id,
                spec.order,
                spec.operator,
                spec.reset,
                spec.rate_limit.limit,
                spec.rate_limit.window_seconds,
                spec.metadata,
            )
        except asyncpg.UniqueViolationError:
            raise ConflictError(f"leaderboard {spec.id!r} exists already") from None
        assert row is not None
        return to_board(row)

    async def get(self, board_id: str) -> Board | None:
        row = await self._db.fetchrow(
            f"SELECT {_BOARD_COLUMNS} FROM leaderboards WHERE id = $1", board_id
        )
        return to_board(row) if row else None

    async def all(self) -> list[Board]:
        rows = await self._db.fetch(f"SELECT {_BOARD_COLUMNS} FROM leaderboards ORDER BY id")
        return [to_board(row) for row in rows]

    async def delete(self, conn: Connection, board_id: str) -> bool:
        return await conn.execute("DELETE FROM leaderboards WHERE id = $1", board_id) == "DELETE 1"

    async def submit(
        self,
        board: Board,
        period: date,
        player_id: str,
        score: int,
        metadata: dict[str, Any] | None,
    ) -> StoredScore:
        """Apply the board's operator to the player's stored score; committed on return."""
        return await self._writer.submit(Submission(board, period, player_id, score, metadata))

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

    async def exists(self, board_id: str) -> bool:
        return bool(await self._db.fetchval("SELECT 1 FROM leaderboards WHERE id = $1", board_id))

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
