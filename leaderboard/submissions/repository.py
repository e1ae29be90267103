"""The ledger in Postgres (``submissions``): reads, decisions, and a void's recomputation.

Accepted submissions are written by the score statement (scores/upsert_sql.py), held
ones by scores/repository.py; the rows name their board by its ``ledger_key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
import msgspec

from leaderboard.boards.models import Board
from leaderboard.boards.periods import period_end, public_period
from leaderboard.lib.db import Connection, Database
from leaderboard.scores.repository import PENDING, counted, ledger_day, status_of
from leaderboard.submissions.models import SubmissionView

_COLUMNS = """
    s.id, l.id AS leaderboard_id, s.period_start, s.player_id::text AS player_id, s.score,
    s.submitted_at, s.details
"""
_FROM = "submissions s JOIN leaderboards l ON l.ledger_key = s.board_key"
# What a decision adds to a row's details: the status, when, why, and who.
_DECIDED = """
    details = COALESCE(s.details, '{}'::jsonb) || jsonb_build_object(
        'status', $5::text, 'decided_at', now(), 'reason', $3::text, 'by', $4::text)
"""
# The remaining counted submissions of a player's entry, by operator.
_REMAINING = {
    "best-desc": "max(score)",
    "best-asc": "min(score)",
    "sum": "sum(score)::bigint",
    "latest": "(array_agg(score ORDER BY id DESC))[1]",
}


@dataclass(frozen=True, slots=True)
class LedgerRow:
    id: int
    board_id: str
    period: date
    player_id: str
    score: int
    status: str
    submitted_at: datetime
    details: dict[str, Any]

    def view(self) -> SubmissionView:
        details = self.details
        decided = details.get("decided_at")
        return SubmissionView(
            id=self.id,
            leaderboard=self.board_id,
            period=public_period(self.period),
            player_id=self.player_id,
            score=self.score,
            status=self.status,  # type: ignore[arg-type]
            submitted_at=self.submitted_at,
            decided_at=None if decided is None else datetime.fromisoformat(decided),
            reason=details.get("reason"),
            evidence_url=details.get("evidence_url"),
            metadata=details.get("metadata"),
        )


def _row(record: asyncpg.Record) -> LedgerRow:
    details = record["details"]
    if isinstance(details, str):  # a pool without the jsonb codec
        details = msgspec.json.decode(details)
    return LedgerRow(
        id=record["id"],
        board_id=record["leaderboard_id"],
        period=record["period_start"],
        player_id=record["player_id"],
        score=record["score"],
        status=(details or {}).get("status", "accepted"),
        submitted_at=record["submitted_at"],
        details=details or {},
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """A player's stored score, locked for a void."""

    score: int
    reached_seq: int
    unledgered: int | None
    hidden: bool = False
    """The player is banned: the entry is out of the index until an unban."""


class LedgerRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, submission_id: int) -> LedgerRow | None:
        record = await self._db.fetchrow(
            f"SELECT {_COLUMNS} FROM {_FROM} WHERE s.id = $1", submission_id
        )
        return None if record is None else _row(record)

    async def ever_issued(self, submission_id: int) -> bool:
        """Whether the id was given to a submission (which the ledger may have dropped)."""
        last = await self._db.fetchval(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM submission_id_seq"
        )
        return 0 < submission_id <= int(last)

    async def of_player(
        self, board_id: str, period: date, player_id: str, limit: int
    ) -> list[LedgerRow]:
        """A player's submissions of one board period, newest first."""
        records = await self._db.fetch(
            f"""
            SELECT {_COLUMNS} FROM {_FROM}
             WHERE s.player_id = $1 AND l.id = $2 AND s.period_start = $3
             ORDER BY s.id DESC LIMIT $4
            """,
            player_id,
            board_id,
            period,
            limit,
        )
        return [_row(record) for record in records]

    async def pending(self, board_id: str, limit: int) -> list[LedgerRow]:
        """A board's pending submissions, oldest first (the review queue).

        The condition is the partial index's, written out so that the index serves it.
        """
        records = await self._db.fetch(
            f"""
            SELECT {_COLUMNS} FROM {_FROM}
             WHERE l.id = $1 AND s.details->>'status' = '{PENDING}' ORDER BY s.id LIMIT $2
            """,
            board_id,
            limit,
        )
        return [_row(record) for record in records]

    async def decide(
        self,
        conn: Connection,
        submission_id: int,
        *,
        was: tuple[str, ...],
        now: str,
        reason: str | None,
        actor: str,
    ) -> LedgerRow | None:
        """Move a submission from one of ``was`` to ``now``, once; None when it was not there.

        The row's lock makes concurrent deciders wait; the one that comes second finds
        the status changed and gets None.
        """
        record = await conn.fetchrow(
            f"""
            WITH s AS (
                UPDATE submissions s SET {_DECIDED}
                 WHERE s.id = $1 AND {status_of("s")} = ANY($2::text[])
                RETURNING s.*
            )
            SELECT {_COLUMNS} FROM s JOIN leaderboards l ON l.ledger_key = s.board_key
            """,
            submission_id,
            list(was),
            reason,
            actor,
            now,
        )
        return None if record is None else _row(record)

    async def locked_entry(
        self, conn: Connection, board_id: str, period: date, player_id: str, span_no: int = 0
    ) -> Entry | None:
        """The player's stored score, its row locked until the caller's transaction ends.

        The score statement takes the same row lock, so a void and the player's new
        submissions apply one after the other.
        """
        record = await conn.fetchrow(
            """
            SELECT score, reached_seq, unledgered, hidden FROM scores
             WHERE leaderboard_id = $1 AND span = $4 AND period_start = $2 AND player_id = $3
               FOR UPDATE
            """,
            board_id,
            period,
            player_id,
            span_no,
        )
        if record is None:
            return None
        return Entry(record["score"], record["reached_seq"], record["unledgered"], record["hidden"])

    async def remaining(
        self, conn: Connection, board: Board, period: date, player_id: str
    ) -> int | None:
        """The operator over the player's counted submissions of the period; None: none."""
        kind = "best-" + board.order if board.operator == "best" else board.operator
        value: int | None = await conn.fetchval(
            f"""
            SELECT {_REMAINING[kind]} FROM submissions
             WHERE player_id = $1 AND period_start = $2
               AND board_key = (SELECT ledger_key FROM leaderboards WHERE id = $3)
               AND {counted("submissions")}
            """,
            player_id,
            period,
            board.id,
        )
        return value

    async def remaining_in(
        self, conn: Connection, view: Board, start: date, player_id: str
    ) -> int | None:
        """As :meth:`remaining`, over the counted submissions made in another span's period.

        ``view``: that span's view of the board; ``start``: its period. A submission is in
        the period holding its day (:func:`ledger_day`).
        """
        kind = "best-" + view.order if view.operator == "best" else view.operator
        end = period_end(view.reset, start) or date.max
        primary = view.spans[0]
        value: int | None = await conn.fetchval(
            f"""
            SELECT {_REMAINING[kind]} FROM submissions
             WHERE player_id = $1
               AND board_key = (SELECT ledger_key FROM leaderboards WHERE id = $2)
               AND {counted("submissions")}
               AND {ledger_day(primary, "submissions")} >= $3
               AND {ledger_day(primary, "submissions")} < $4
            """,
            player_id,
            view.id,
            start,
            end,
        )
        return value

    async def rescore(
        self,
        conn: Connection,
        board_id: str,
        period: date,
        player_id: str,
        score: int,
        span_no: int = 0,
    ) -> tuple[int, int]:
        """Set the entry's stored score (a void); its new (score, reached_seq).

        A new score takes a new sequence number (reached now, at the void), so the index
        applies it as the newer change; an unchanged one keeps its place.
        """
        record = await conn.fetchrow(
            """
            UPDATE scores SET
                previous_score = score,
                score = $4,
                reached_seq = CASE WHEN score = $4 THEN reached_seq
                                   ELSE nextval('score_reached_seq') END,
                reached_at = CASE WHEN score = $4 THEN reached_at ELSE now() END,
                submissions = GREATEST(submissions - 1, 0),
                updated_at = now()
             WHERE leaderboard_id = $1 AND span = $5 AND period_start = $2 AND player_id = $3
            RETURNING score, reached_seq
            """,
            board_id,
            period,
            player_id,
            score,
            span_no,
        )
        assert record is not None  # the caller holds the row's lock
        return record["score"], record["reached_seq"]
