"""Leaderboards in Postgres: their configuration (scores: score_repository.py)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from leaderboard.boards.models import Board, BoardCreate, RateLimitConfig
from leaderboard.lib.db import Connection, Database
from leaderboard.lib.errors import ConflictError

_BOARD_COLUMNS = (
    "id, name, sort_order, operator, reset, rate_limit, rate_window_seconds, metadata, created_at, "
    "client_submissions, min_score, max_score, starts_at, ends_at, max_submissions, "
    "overtake_events, keep_periods, ranks, segments, ledger_days, review, review_jump, "
    "review_top"
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
        client_submissions=row["client_submissions"],
        min_score=row["min_score"],
        max_score=row["max_score"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        max_submissions=row["max_submissions"],
        overtake_events=row["overtake_events"],
        keep_periods=row["keep_periods"],
        ranks=row["ranks"],
        segments=list(row["segments"]),
        ledger_days=row["ledger_days"],
        review=row["review"],
        review_jump=row["review_jump"],
        review_top=row["review_top"],
    )


class BoardRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, conn: Connection, spec: BoardCreate, created_at: datetime) -> Board:
        """Insert the board, made at ``created_at`` by the service's clock (not Postgres').

        Periods before it hold nothing, so it must be on the clock that tells periods.
        """
        try:
            row = await conn.fetchrow(
                f"""
                INSERT INTO leaderboards
                    (id, name, sort_order, operator, reset, rate_limit, rate_window_seconds,
                     metadata, client_submissions, min_score, max_score, starts_at, ends_at,
                     max_submissions, overtake_events, keep_periods, created_at, ranks,
                     segments, ledger_days, review, review_jump, review_top)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                        $17, $18, $19, $20, $21, $22, $23)
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
                spec.client_submissions,
                spec.min_score,
                spec.max_score,
                spec.starts_at,
                spec.ends_at,
                spec.max_submissions,
                spec.overtake_events,
                spec.keep_periods,
                created_at,
                spec.ranks,
                list(dict.fromkeys(spec.segments)),
                spec.ledger_days,
                spec.review,
                spec.review_jump,
                spec.review_top,
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

    async def locked(self, conn: Connection, board_id: str) -> Board | None:
        """The board, its row locked until the caller's transaction ends."""
        row = await conn.fetchrow(
            f"SELECT {_BOARD_COLUMNS} FROM leaderboards WHERE id = $1 FOR UPDATE", board_id
        )
        return to_board(row) if row else None

    async def update_rules(self, conn: Connection, board: Board) -> Board:
        """Write the rules a board may change after its creation (PATCH), as ``board`` has them."""
        row = await conn.fetchrow(
            f"""
            UPDATE leaderboards
               SET name = $2, metadata = $3, rate_limit = $4, rate_window_seconds = $5,
                   client_submissions = $6, min_score = $7, max_score = $8, starts_at = $9,
                   ends_at = $10, max_submissions = $11, overtake_events = $12,
                   keep_periods = $13, ranks = $14, ledger_days = $15, review = $16,
                   review_jump = $17, review_top = $18
             WHERE id = $1
            RETURNING {_BOARD_COLUMNS}
            """,
            board.id,
            board.name,
            board.metadata,
            board.rate_limit.limit,
            board.rate_limit.window_seconds,
            board.client_submissions,
            board.min_score,
            board.max_score,
            board.starts_at,
            board.ends_at,
            board.max_submissions,
            board.overtake_events,
            board.keep_periods,
            board.ranks,
            board.ledger_days,
            board.review,
            board.review_jump,
            board.review_top,
        )
        assert row is not None  # the caller holds the row's lock
        return to_board(row)

    async def all(self) -> list[Board]:
        rows = await self._db.fetch(f"SELECT {_BOARD_COLUMNS} FROM leaderboards ORDER BY id")
        return [to_board(row) for row in rows]

    async def delete(self, conn: Connection, board_id: str) -> bool:
        return await conn.execute("DELETE FROM leaderboards WHERE id = $1", board_id) == "DELETE 1"

    async def exists(self, board_id: str) -> bool:
        return bool(await self._db.fetchval("SELECT 1 FROM leaderboards WHERE id = $1", board_id))
