"""Commit score submissions to Postgres, many concurrent ones per statement (group commit).

Each submission applies the board's operator to the player's stored score. Submissions
that arrive while a statement is running wait for the next one, which upserts all of
them from arrays (``unnest``) and commits once: one round trip and one WAL flush for the
batch, instead of one of each per submission (docs/benchmarks.md).

Rules that keep a batch equivalent to the same submissions one by one:
- A statement may touch a row once (``ON CONFLICT DO UPDATE`` refuses a second touch),
  so a batch holding two submissions of one player on one board period runs in rounds,
  in arrival order: round n holds each key's n-th submission.
- Rows are upserted in key order, so two concurrent statements lock shared rows in the
  same order and cannot deadlock; their sequence numbers (who reached a score first)
  are drawn in arrival order.
- A failing statement (an unknown player, a deleted board, a sum leaving the range) rolls
  back as a whole; its submissions then run one per statement, so that only the bad one
  fails, with its own error.
- A submission with an Idempotency-Key inserts the key in the same statement; a key
  already there (a repeat) skips its score, so a repeat commits nothing
  (:class:`AlreadySubmitted`). Concurrent repeats wait for the first's key to commit.
- A statement whose connection fails after it was sent may still commit:
  :class:`~leaderboard.lib.errors.OutcomeUnknownError` tells its callers so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import msgspec

from leaderboard.boards.models import Board, Operator, Order
from leaderboard.lib.batching import GROUP_COMMIT_OVERLAP_SECONDS, Batcher
from leaderboard.lib.db import Connection, Database
from leaderboard.lib.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from leaderboard.scores.upsert_sql import UPSERTS, UpsertRow, upsert_arrays

# How many submissions one statement upserts at most, and how many statements of one
# worker may run at once (each holds a pooled connection until it commits).
MAX_BATCH = 256
MAX_IN_FLIGHT = 3


@dataclass(frozen=True, slots=True)
class SpanScore:
    """A submission's row in one of its board's other spans, as committed."""

    span_no: int
    period: date
    score: int
    reached_seq: int
    changed: bool
    inserted: bool
    previous_score: int | None


@dataclass(frozen=True, slots=True)
class StoredScore:
    score: int
    reached_seq: int
    changed: bool
    inserted: bool = False
    """The player's first entry in this period."""
    spans: tuple[SpanScore, ...] = ()
    """The board's other spans' rows (a board with several spans), in their order."""
    country: str | None = None
    """The player's profile country (a segmented board's index takes the entry there)."""
    submission_id: int | None = None
    """Its row in the ledger; None on a board without one."""


class AlreadySubmitted(Exception):
    """The submission's Idempotency-Key was used before: nothing was written now."""


class PlayerBanned(PermissionDeniedError):
    """The player is banned: their scores are refused."""


class SubmissionLimitReached(ConflictError):
    """The player used up the board's max_submissions for this period."""


@dataclass(frozen=True, slots=True)
class Submission:
    board: Board
    period: date
    player_id: str
    score: int
    metadata: dict[str, Any] | None
    idempotency_key: str | None = None
    request_hash: bytes | None = None
    """SHA-256 of what was submitted, kept with the key (the same key, another body: 422)."""
    actor: str | None = None
    """The admin or a server key submitting for the player (audited); None: the player."""
    request_id: str | None = None
    evidence_url: str | None = None
    ledger: bool = True
    """Keep it in the ledger if the board has one (False: an approval, already there)."""
    span_periods: tuple[date, ...] = ()
    """The current period of each of the board's other spans (``board.spans[1:]``)."""

    @property
    def key(self) -> tuple[str, date, str]:
        # Two submissions of a player to a board of several spans share rows even in
        # different primary periods (the day changed between them, not the week).
        return (self.board.id, date.min if self.span_periods else self.period, self.player_id)

    def rows(self, drawn_seq: int | None, first: int) -> list[UpsertRow]:
        """The submission's rows, its primary row at 1-based position ``first``."""
        primary = self.row(drawn_seq)
        if not self.span_periods:
            return [primary]
        return [
            primary,
            *(
                msgspec.structs.replace(
                    primary,
                    period=period,
                    span=span_no,
                    parent=first,
                    idempotency_key=None,
                    request_hash=None,
                    max_submissions=None,
                    actor=None,
                    ledger=False,
                    evidence_url=None,
                )
                for span_no, period in enumerate(self.span_periods, 1)
            ),
        ]

    def row(self, drawn_seq: int | None) -> UpsertRow:
        """The submission's primary row as the group-commit statement takes it."""
        return UpsertRow(
            board=self.board.id,
            period=self.period,
            player=self.player_id,
            submitted=self.score,
            metadata=None if self.metadata is None else msgspec.json.encode(self.metadata).decode(),
            drawn_seq=drawn_seq,
            idempotency_key=self.idempotency_key,
            request_hash=self.request_hash,
            max_submissions=self.board.max_submissions,
            actor=self.actor,
            request_id=self.request_id,
            ledger=self.ledger and self.board.ledger_days > 0,
            evidence_url=self.evidence_url,
        )


def _rounds(batch: Sequence[tuple[int, Submission]]) -> list[list[tuple[int, Submission]]]:
    """Split a batch so that no round holds one key twice; each round in arrival order."""
    rounds: list[list[tuple[int, Submission]]] = []
    seen: dict[tuple[str, date, str], int] = {}
    for entry in batch:
        n = seen.get(entry[1].key, 0)
        seen[entry[1].key] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(entry)
    return rounds


class ScoreWriter:
    """One per worker; ``await writer.commit(...)`` returns once the score is committed."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.batcher: Batcher[Submission, StoredScore] = Batcher(
            self._run_batch,
            name="score_upserts",
            max_batch=MAX_BATCH,
            max_in_flight=MAX_IN_FLIGHT,
            overlap_after=GROUP_COMMIT_OVERLAP_SECONDS,
        )

    async def commit(self, submission: Submission) -> StoredScore:
        """Apply the board's operator to the player's stored score; committed on return."""
        return await self.batcher(submission)

    async def commit_together(self, submissions: list[Submission]) -> list[StoredScore | Exception]:
        """Commit these as one batch, as concurrent ``commit`` calls would share one.

        Each one's outcome, in order: what the batching promises, testable without timing.
        """
        return await self._run_batch(submissions)

    async def _run_batch(self, batch: list[Submission]) -> list[StoredScore | Exception]:
        # Each submission's outcome is set by the statement that committed it, or that
        # failed and so committed nothing: a caller told "503" must not have been
        # committed, or it would submit again (twice into a `sum`).
        outcomes: list[StoredScore | Exception | None] = [None] * len(batch)
        groups: dict[tuple[Operator, Order], list[tuple[int, Submission]]] = {}
        for i, submission in enumerate(batch):
            key = (submission.board.operator, submission.board.order)
            groups.setdefault(key, []).append((i, submission))
        for (operator, order), group in groups.items():
            rounds = _rounds(group)
            sequences: dict[int, int] = {}
            if len(rounds) > 1:
                # Round by round, the statements would number a later round's (earlier)
                # submissions after an earlier round's: number them all now, in order.
                try:
                    sequences = await self._draw_sequences([i for i, _ in group])
                except Exception as exc:  # nothing is committed yet
                    for i, _ in group:
                        outcomes[i] = exc
                    continue
            for round_ in rounds:
                await self._upsert_round(UPSERTS[(operator, order)], round_, sequences, outcomes)
        return [RuntimeError("not run") if o is None else o for o in outcomes]

    async def _draw_sequences(self, arrival_order: list[int]) -> dict[int, int]:
        # Nothing is written if this fails or times out: a sequence number is not a score.
        rows = await self._db.fetch(
            "SELECT nextval('score_reached_seq') AS seq FROM generate_series(1, $1)",
            len(arrival_order),
        )
        return dict(zip(arrival_order, sorted(row["seq"] for row in rows), strict=True))

    async def _upsert_round(
        self,
        sql: str,
        round_: list[tuple[int, Submission]],
        sequences: dict[int, int],
        outcomes: list[StoredScore | Exception | None],
    ) -> None:
        """Upsert one round; sets each of its outcomes and never raises."""
        try:
            rows = await self._db.commit_batch(sql, *upsert_arrays(_round_rows(round_, sequences)))
        except (asyncpg.IntegrityConstraintViolationError, asyncpg.DeadlockDetectedError) as exc:
            if len(round_) == 1:
                outcomes[round_[0][0]] = _domain_error(exc, round_[0][1])
                return
            for entry in round_:  # find the bad one: each on its own
                await self._upsert_round(sql, [entry], sequences, outcomes)
            return
        except Exception as exc:  # not committed; or OutcomeUnknownError: maybe committed
            for i, _ in round_:
                outcomes[i] = exc
            return
        answers = iter(rows)  # in input order: each submission's primary row, then its spans'
        for i, submission in round_:
            outcomes[i] = _outcome(submission, next(answers), answers)

    async def commit_in(self, conn: Connection, submission: Submission) -> StoredScore:
        """Apply one submission inside the caller's transaction (an approval), unbatched.

        The same statement as a batch of one; committed with the caller's transaction.

        Raises:
            PlayerBanned, SubmissionLimitReached, InvalidInputError, NotFoundError: as
                :meth:`commit` would answer them.

        """
        sql = UPSERTS[(submission.board.operator, submission.board.order)]
        try:
            rows = await conn.fetch(sql, *upsert_arrays(submission.rows(None, 1)))
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise _domain_error(exc, submission) from exc
        answers = iter(rows)
        outcome = _outcome(submission, next(answers), answers)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _round_rows(round_: list[tuple[int, Submission]], sequences: dict[int, int]) -> list[UpsertRow]:
    rows: list[UpsertRow] = []
    for i, submission in round_:
        rows += submission.rows(sequences.get(i), len(rows) + 1)
    return rows


def _outcome(
    submission: Submission, row: asyncpg.Record, more: Iterator[asyncpg.Record]
) -> StoredScore | Exception:
    """What the statement's answer means for a submission.

    Its primary row's, then (taken from ``more``) its other spans' rows, written only where
    the primary row was.
    """
    span_rows = [next(more) for _ in submission.span_periods]
    if row["banned"]:
        return PlayerBanned(f"player {submission.player_id!r} is banned")
    if row["repeated"]:  # its key was there: a repeat, which wrote nothing
        return AlreadySubmitted(submission.idempotency_key)
    if row["score"] is None:
        limit = submission.board.max_submissions
        return SubmissionLimitReached(
            f"max_submissions: {limit} submissions per player per period reached"
        )
    return StoredScore(
        score=row["score"],
        reached_seq=row["reached_seq"],
        changed=row["inserted"] or row["previous_score"] != row["score"],
        inserted=row["inserted"],
        country=row["country"],
        submission_id=row["submission_id"],
        spans=tuple(map(_span_score, span_rows)),
    )


def _span_score(row: asyncpg.Record) -> SpanScore:
    assert row["score"] is not None  # written with its primary row
    return SpanScore(
        span_no=row["span"],
        period=row["period"],
        score=row["score"],
        reached_seq=row["reached_seq"],
        changed=row["inserted"] or row["previous_score"] != row["score"],
        inserted=row["inserted"],
        previous_score=row["previous_score"],
    )


def _domain_error(exc: Exception, submission: Submission) -> Exception:
    if isinstance(exc, asyncpg.CheckViolationError):
        return InvalidInputError("score", "the sum would leave the range |score| ≤ 2^53 - 1")
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        if "player" in str(exc):
            return NotFoundError(f"no player with id {submission.player_id!r}")
        return NotFoundError(f"no leaderboard {submission.board.id!r}")
    return exc
