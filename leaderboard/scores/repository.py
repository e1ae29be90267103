"""Writes to `scores` outside the group commit: entries removed, hidden, shown; old keys.

Submissions are written by writer.py (group commit); the index reads the rows through
ranking/records.py.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from leaderboard.boards.models import Board, Reset
from leaderboard.lib.db import Connection, Database
from leaderboard.lib.errors import NotFoundError
from leaderboard.scores.writer import PlayerBanned, StoredScore

# A submission's status in the ledger: ``details->>'status'``, absent on accepted rows (most
# rows have no details at all: a smaller row, docs/data-model.md).
ACCEPTED, PENDING, APPROVED, REJECTED, VOIDED = (
    "accepted",
    "pending",
    "approved",
    "rejected",
    "voided",
)


def status_of(row: str) -> str:
    """SQL: the status of the ledger row ``row`` (an alias of ``submissions``)."""
    return f"COALESCE({row}.details->>'status', '{ACCEPTED}')"


def counted(row: str) -> str:
    """SQL: whether the ledger row ``row`` counts in its entry (accepted or approved)."""
    return f"COALESCE({row}.details->>'status', '{APPROVED}') = '{APPROVED}'"


def ledger_day(reset: Reset, row: str) -> str:
    """SQL: the day a ledger row ``row`` counts on in a board's other spans.

    The day it was submitted on (UTC), kept within its own period (that of the board's
    primary span, ``reset``): the same as :func:`~leaderboard.boards.periods.day_within`.
    """
    day = f"({row}.submitted_at AT TIME ZONE 'UTC')::date"
    if reset == "daily":
        return f"{row}.period_start"
    if reset == "never":
        return day
    start = f"{row}.period_start"
    last = f"{start} + 6" if reset == "weekly" else f"({start} + interval '1 month')::date - 1"
    return f"LEAST(GREATEST({day}, {start}), {last})"


class ScoreRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def player_entries(self, conn: Connection, player_id: str) -> list[tuple[str, int, date]]:
        """(board, span_no, period) of every entry of a player, locked till the caller commits."""
        rows = await conn.fetch(
            "SELECT leaderboard_id, span, period_start FROM scores WHERE player_id = $1 FOR UPDATE",
            player_id,
        )
        return [(row["leaderboard_id"], row["span"], row["period_start"]) for row in rows]

    async def player_country(self, conn: Connection, player_id: str) -> str | None:
        """The player's profile country (which country index holds their entries)."""
        value = await conn.fetchval("SELECT country FROM players WHERE id = $1", player_id)
        return None if value is None else str(value)

    async def delete_entry(
        self, conn: Connection, board: Board, period: date, player_id: str
    ) -> StoredScore | None:
        """Delete one entry (of ``board``'s span) in the caller's transaction; what it held.

        A primary span's entry: its counted submissions in the ledger stop counting with it
        (voided), so that a new entry of the player is made of new submissions only. The
        ledger is the primary span's: another span's entry goes alone.
        """
        row = await conn.fetchrow(
            f"""
            WITH gone AS (
                DELETE FROM scores
                 WHERE leaderboard_id = $1 AND span = $4 AND period_start = $2
                   AND player_id = $3
                RETURNING score, reached_seq
            ),
            voided AS (
                UPDATE submissions s
                   SET details = COALESCE(s.details, '{{}}'::jsonb) || jsonb_build_object(
                           'status', '{VOIDED}', 'decided_at', now(), 'reason', 'entry removed')
                 WHERE s.player_id = $3 AND s.period_start = $2
                   AND s.board_key = (SELECT ledger_key FROM leaderboards WHERE id = $1)
                   AND {counted("s")} AND EXISTS (SELECT 1 FROM gone) AND $4 = 0
            )
            SELECT score, reached_seq FROM gone
            """,
            board.id,
            period,
            player_id,
            board.span_no,
        )
        return StoredScore(row["score"], row["reached_seq"], True) if row else None

    async def hold(
        self,
        board_id: str,
        period: date,
        player_id: str,
        score: int,
        details: dict[str, Any] | None,
        idempotency_key: str | None = None,
        request_hash: bytes | None = None,
    ) -> int | None:
        """Keep a submission held for review in the ledger (pending); its id.

        With an ``idempotency_key``, the key is kept in the same statement, as a
        submission's is (writer.py): None when it was there already (a repeat, which
        holds nothing).

        Raises:
            PlayerBanned: the player is banned (nothing written).
            NotFoundError: no such player, or the board went meanwhile.

        """
        rows = await self._db.fetch_write(
            """
            WITH f AS (
                SELECT (SELECT banned_at IS NOT NULL FROM players WHERE id = $2) AS banned,
                       (SELECT ledger_key FROM leaderboards WHERE id = $1) AS board_key
            ),
            keyed AS (
                INSERT INTO idempotency_keys
                    (leaderboard_id, player_id, key, request_hash, period_start)
                SELECT $1, $2, $6, $7, $4 FROM f
                 WHERE $6::text IS NOT NULL AND NOT f.banned AND f.board_key IS NOT NULL
                ON CONFLICT DO NOTHING
                RETURNING 1
            ),
            held AS (
                INSERT INTO submissions
                    (score, player_id, period_start, board_key, details)
                SELECT $3, $2, $4, f.board_key, $5::jsonb FROM f
                 WHERE NOT f.banned AND f.board_key IS NOT NULL
                   AND ($6::text IS NULL OR EXISTS (SELECT FROM keyed))
                RETURNING id
            )
            SELECT f.banned, f.board_key IS NOT NULL AS found, (SELECT id FROM held) AS id
              FROM f
            """,
            board_id,
            player_id,
            score,
            period,
            {"status": PENDING, **(details or {})},
            idempotency_key,
            request_hash,
        )
        row = rows[0]
        if row["banned"]:
            raise PlayerBanned(f"player {player_id!r} is banned")
        if row["banned"] is None or not row["found"]:
            raise NotFoundError(f"no player with id {player_id!r}")
        held: int | None = row["id"]
        return held

    async def set_hidden(
        self, conn: Connection, player_id: str, hidden: bool
    ) -> list[tuple[str, int, date, int, int]]:
        """Hide (ban) or show (unban) a player's rows; (board, span_no, period, score, seq)."""
        rows = await conn.fetch(
            """
            UPDATE scores SET hidden = $2 WHERE player_id = $1
            RETURNING leaderboard_id, span, period_start, score, reached_seq
            """,
            player_id,
            hidden,
        )
        return [(row[0], row[1], row[2], row[3], row[4]) for row in rows]

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
