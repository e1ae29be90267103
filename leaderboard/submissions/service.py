"""The ledger's reads, the review decisions (approve, reject) and voids.

A decision changes a row's status once, whatever the number of workers: a conditional
UPDATE under the row's lock (repository.decide). An approval applies the submission in
the same transaction with the score statement itself (scores/writer.py), to the period it
was submitted in; a void locks the player's stored score first (the score statement takes
that lock too, so the player's concurrent submissions apply before or after it, never
across it), then recomputes the score from what still counts. The index follows each
commit, with its events; the audit entry commits with the change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date

import asyncpg

from leaderboard.audit.repository import AuditLog
from leaderboard.auth.principal import Principal
from leaderboard.boards.models import Board
from leaderboard.boards.periods import public_period, resolve_period
from leaderboard.boards.service import BoardService
from leaderboard.lib.clock import Clock
from leaderboard.lib.db import Connection, Database
from leaderboard.lib.errors import ConflictError, NotFoundError, PermissionDeniedError
from leaderboard.lib.ids import canonical_player_id
from leaderboard.lib.logs import REQUEST_ID
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.ranking.index import RankIndex
from leaderboard.scores.repository import (
    ACCEPTED,
    APPROVED,
    PENDING,
    REJECTED,
    VOIDED,
    ScoreRepository,
)
from leaderboard.scores.writer import ScoreWriter, Submission
from leaderboard.submissions.models import SubmissionView
from leaderboard.submissions.repository import LedgerRepository, LedgerRow
from leaderboard.submissions.spans import (
    applying,
    following,
    recomputed,
    span_periods_of,
    void_in_spans,
)

logger = logging.getLogger(__name__)

# A void and the retention job lock rows in another order; Postgres ends one of two that
# wait on each other, and the void tries again.
VOID_ATTEMPTS = 3


def may_review(caller: Principal, board_id: str) -> bool:
    """The admin, or a server key of the board: who sees the queue and decides."""
    if caller.is_admin:
        return True
    grant = caller.server_key
    return grant is not None and (grant.leaderboards is None or board_id in grant.leaderboards)


class SubmissionService:
    def __init__(
        self,
        *,
        db: Database,
        boards: BoardService,
        ledger: LedgerRepository,
        scores: ScoreRepository,
        writer: ScoreWriter,
        index: RankIndex,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self._db = db
        self._boards = boards
        self._ledger = ledger
        self._scores = scores
        self._writer = writer
        self._index = index
        self._audit = audit
        self._clock = clock

    # -- reads ---------------------------------------------------------------------------

    async def get(self, submission_id: int, caller: Principal) -> SubmissionView:
        """One submission: for its player, the admin, or a server key of its board."""
        row = await self._found(submission_id)
        if caller.player_id != row.player_id and not may_review(caller, row.board_id):
            raise PermissionDeniedError("only its player, the admin or its board's server key")
        return row.view()

    async def of_player(
        self, board_id: str, player_id: str, period: str | None, limit: int, caller: Principal
    ) -> list[SubmissionView]:
        player_id = canonical_player_id(player_id)
        caller.require_self_or_admin(player_id)
        board = await self._boards.get(board_id)
        start = resolve_period(board.reset, period, self._clock())
        rows = await self._ledger.of_player(board.id, start, player_id, limit)
        return [row.view() for row in rows]

    async def queue(self, board_id: str, limit: int, caller: Principal) -> list[SubmissionView]:
        """The board's pending submissions, oldest first."""
        board = await self._boards.get(board_id)
        self._require_reviewer(caller, board.id)
        return [row.view() for row in await self._ledger.pending(board.id, limit)]

    # -- decisions -----------------------------------------------------------------------

    async def approve(self, submission_id: int, caller: Principal) -> SubmissionView:
        """Apply a pending submission with the board's operator, to its own period."""
        row, board, actor = await self._pending(submission_id, caller)
        async with self._db.transaction() as conn:
            decided = await self._decide(conn, row, PENDING, APPROVED, None, actor)
            stored = await self._writer.commit_in(
                conn,
                Submission(
                    board,
                    row.period,
                    row.player_id,
                    row.score,
                    row.details.get("metadata"),
                    actor=actor,
                    request_id=REQUEST_ID.get(),
                    ledger=False,  # its row is there: now approved
                    # each other span's period of the day it was submitted on
                    span_periods=tuple(period for _, period in span_periods_of(board, row)),
                ),
            )
        await self._follow(
            board,
            row,
            lambda: self._index.apply(
                board, row.period, row.player_id, stored.score, stored.reached_seq,
                changed=stored.changed, country=stored.country,
            ),
        )  # fmt: skip
        for span in stored.spans:  # the board's other spans: each its own period's entry
            view = board.view_of(span.span_no)
            await self._follow(
                view, row, applying(self._index, view, row, span, stored.country), span.period
            )
        return decided.view()

    async def reject(self, submission_id: int, reason: str, caller: Principal) -> SubmissionView:
        row, _, actor = await self._pending(submission_id, caller)
        async with self._db.transaction() as conn:
            decided = await self._decide(conn, row, PENDING, REJECTED, reason, actor)
        return decided.view()

    async def void(self, submission_id: int, reason: str, caller: Principal) -> SubmissionView:
        """The submission stops counting; the player's stored score is recomputed."""
        caller.require_admin()
        if not _valid(submission_id):
            raise NotFoundError(f"no submission {submission_id}")
        row = await self._ledger.get(submission_id)
        if row is None:
            if await self._ledger.ever_issued(submission_id):
                raise ConflictError(f"submission {submission_id} is no longer in the ledger")
            raise NotFoundError(f"no submission {submission_id}")
        board = await self._boards.get(row.board_id)
        for attempt in range(1, VOID_ATTEMPTS + 1):
            try:
                return await self._void(row, board, reason, caller.actor or "admin")
            except asyncpg.DeadlockDetectedError:
                if attempt == VOID_ATTEMPTS:
                    raise
                logger.info("void of submission %d met a deadlock; again", submission_id)
        raise AssertionError("unreachable")

    async def _void(self, row: LedgerRow, board: Board, reason: str, actor: str) -> SubmissionView:
        outcome: tuple[int, int] | None = None
        async with self._db.transaction() as conn:
            entry = await self._ledger.locked_entry(conn, board.id, row.period, row.player_id)
            decided = await self._decide(conn, row, ACCEPTED, VOIDED, reason, actor, APPROVED)
            before = None if entry is None else entry.score
            after = None
            if entry is not None:  # None: the entry went already (removed, or dropped)
                remaining = await self._ledger.remaining(conn, board, row.period, row.player_id)
                after = recomputed(board, entry, remaining)
                if after is None:
                    await self._scores.delete_entry(conn, board, row.period, row.player_id)
                else:
                    outcome = await self._ledger.rescore(
                        conn, board.id, row.period, row.player_id, after
                    )
            spans = await void_in_spans(conn, self._ledger, self._scores, board, row)
            await self._audit.record(
                conn,
                actor=actor,
                action="submission.void",
                target=_target(row),
                details=_details(row, reason) | {"score_before": before, "score_after": after},
            )
        if entry is not None and entry.hidden:
            pass  # a banned player's: an unban puts the entry back as Postgres has it
        elif outcome is not None:
            # Read back as committed, with the player's country on a segmented board.
            await self._follow(
                board, row, lambda: self._index.apply_stored(board, row.period, row.player_id)
            )
        elif entry is not None:
            await self._follow(
                board,
                row,
                lambda: self._index.remove(board, row.period, row.player_id, announce=True),
            )
        for span in spans:  # the board's other spans: each its own period's entry
            if not span.hidden:
                await self._follow(span.view, row, following(self._index, span, row), span.period)
        return decided.view()

    async def _follow(
        self,
        board: Board,
        row: LedgerRow,
        change: Callable[[], Awaitable[object]],
        period: date | None = None,
    ) -> None:
        """Bring the index to what was committed; on a Redis outage, later (the decision stands).

        A change that cannot reach the index now is retried in the background, and the
        index guard compares the entry with Postgres in any case. A period that had ended
        and been frozen gets its final standings again (a player's history reads them).
        ``board`` and ``period``: another span's (a view, and its period of the row).
        """
        period = row.period if period is None else period
        try:
            await change()
        except REDIS_OUTAGE_ERRORS as exc:
            logger.warning("submission %d: the index follows later (%s)", row.id, exc)
            self._index.apply_later(board, period, row.player_id)
        await self._index.results.changed(board, period)  # an ended period's final ranks

    # -- inside --------------------------------------------------------------------------

    async def _found(self, submission_id: int) -> LedgerRow:
        row = await self._ledger.get(submission_id) if _valid(submission_id) else None
        if row is None:
            raise NotFoundError(f"no submission {submission_id} in the ledger")
        return row

    def _require_reviewer(self, caller: Principal, board_id: str) -> None:
        if not may_review(caller, board_id):
            raise PermissionDeniedError("the admin token or a server key of this leaderboard")

    async def _pending(self, submission_id: int, caller: Principal) -> tuple[LedgerRow, Board, str]:
        row = await self._found(submission_id)
        self._require_reviewer(caller, row.board_id)
        if row.status != PENDING:
            raise ConflictError(f"submission {submission_id} is decided already")
        return row, await self._boards.get(row.board_id), caller.actor or "admin"

    async def _decide(
        self,
        conn: Connection,
        row: LedgerRow,
        was: str,
        now: str,
        reason: str | None,
        actor: str,
        *also_was: str,
    ) -> LedgerRow:
        decided = await self._ledger.decide(
            conn, row.id, was=(was, *also_was), now=now, reason=reason, actor=actor
        )
        if decided is None:
            raise ConflictError(f"submission {row.id} is decided already, or not counted")
        if now != VOIDED:
            await self._audit.record(
                conn,
                actor=actor,
                action="submission.approve" if now == APPROVED else "submission.reject",
                target=_target(row),
                details=_details(row, reason),
            )
        return decided


def _valid(submission_id: int) -> bool:
    """Whether the id can be one (a bigint, from 1): others are no submission (404)."""
    return 0 < submission_id < 2**63


def _target(row: LedgerRow) -> str:
    return f"leaderboard:{row.board_id}/player:{row.player_id}"


def _details(row: LedgerRow, reason: str | None) -> dict[str, object]:
    period: date | None = public_period(row.period)
    return {
        "submission_id": row.id,
        "submitted": row.score,
        "period": None if period is None else period.isoformat(),
        "reason": reason,
    }
