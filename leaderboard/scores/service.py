"""Score submission: rate limit, commit in Postgres, apply to the index, announce."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from leaderboard.auth.sessions import UncheckedSession
from leaderboard.boards.models import Board
from leaderboard.boards.periods import public_period, resolve_period
from leaderboard.boards.service import BoardService
from leaderboard.lib.clock import Clock
from leaderboard.lib.db import Connection
from leaderboard.lib.errors import (
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServiceError,
)
from leaderboard.lib.ids import canonical_player_id
from leaderboard.lib.logs import REQUEST_ID
from leaderboard.lib.metrics import BUFFER, SUBMISSIONS
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.validation import check_metadata
from leaderboard.ranking.index import RankIndex
from leaderboard.scores.admission import Admission
from leaderboard.scores.idempotency import IdempotencyStore, StoredAnswer, request_hash
from leaderboard.scores.models import HeldResult, SpanResult, SubmitResult
from leaderboard.scores.repository import ScoreRepository
from leaderboard.scores.review import ReviewRules
from leaderboard.scores.rules import check_rules, same_request
from leaderboard.scores.spans import apply_spans, span_periods
from leaderboard.scores.writer import AlreadySubmitted, ScoreWriter, Submission

logger = logging.getLogger(__name__)

# What a retry outlasts (the dependency comes back), rather than gives up on.
_RETRIED: tuple[type[Exception], ...] = (DependencyUnavailableError, *REDIS_OUTAGE_ERRORS)
# A repeat of a keyed submission whose first attempt committed less than this long ago and
# has no answer yet is told 409 (still being processed), later it gets the entry as it is.
IN_PROGRESS_FOR = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class Submitted:
    """A submission's answer: the result, the headers, and whether it was a repeat."""

    result: SubmitResult | HeldResult
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False


class ScoreService:
    def __init__(
        self,
        *,
        boards: BoardService,
        writer: ScoreWriter,
        scores: ScoreRepository,
        index: RankIndex,
        admission: Admission,
        idempotency: IdempotencyStore,
        review: ReviewRules,
        clock: Clock,
    ) -> None:
        self._boards = boards
        self._writer = writer
        self._scores = scores
        self._index = index
        self._admission = admission
        self._idempotency = idempotency
        self._review = review
        self._clock = clock

    async def submit_score(
        self,
        board_id: str,
        player_id: str,
        score: int,
        metadata: dict[str, Any] | None,
        idempotency_key: str | None = None,
        actor: str | None = None,
        evidence_url: str | None = None,
        session: UncheckedSession | None = None,
    ) -> Submitted:
        """Check the board's rules, rate limit, commit, apply to the index.

        ``actor`` is the admin or a server key submitting for the player (audited; None:
        the player themself). ``session``: the player's, when the worker has not checked
        it yet (checked with the rate limit, before anything is written). A keyed repeat
        gets the first answer. A player's own submission that the board's review holds is
        kept pending (``HeldResult``). Counts every outcome in
        ``leaderboard_submissions_total``.
        """
        try:
            outcome = await self._submit(
                board_id, player_id, score, metadata, idempotency_key, actor, evidence_url, session
            )
        except RateLimitedError:
            BUFFER.counter(SUBMISSIONS, "throttled").inc()
            raise
        except DependencyUnavailableError:
            BUFFER.counter(SUBMISSIONS, "failed").inc()
            raise
        except ServiceError:
            BUFFER.counter(SUBMISSIONS, "rejected").inc()
            raise
        held = isinstance(outcome.result, HeldResult)
        kind = "replayed" if outcome.replayed else "held" if held else "accepted"
        BUFFER.counter(SUBMISSIONS, kind).inc()
        return outcome

    async def _submit(
        self,
        board_id: str,
        player_id: str,
        score: int,
        metadata: dict[str, Any] | None,
        key: str | None,
        actor: str | None,
        evidence_url: str | None = None,
        session: UncheckedSession | None = None,
    ) -> Submitted:

        check_metadata("metadata", metadata)
        board = await self._boards.get(board_id)
        player_id = canonical_player_id(player_id)
        check_rules(board, score, actor, self._clock())
        request = request_hash(player_id, score, metadata) if key else None
        admitted = await self._admission.admit(board, player_id, key, session)
        if isinstance(admitted, StoredAnswer):  # a repeat: neither limited nor written again
            assert request is not None
            same_request(admitted.request, request.hex())
            return Submitted(admitted.answer, replayed=True)
        decision = admitted
        period = resolve_period(board.reset, None, self._clock())
        if actor is None and await self._review.holds(board, period, player_id, score):
            details = None
            if metadata is not None or evidence_url is not None:
                details = {"metadata": metadata, "evidence_url": evidence_url}
            held = await self._scores.hold(
                board.id, period, player_id, score, details, key, request
            )
            if held is None:  # its key was there: a repeat, which held nothing
                assert key is not None
                assert request is not None
                return await self._repeat_held(board, player_id, key, request)
            answer = HeldResult(
                submission_id=held, status="pending", player_id=player_id, score=score
            )
            if key and request:
                await self._idempotency.remember(board.id, player_id, key, request, answer)
            return Submitted(answer, decision.headers())
        submission = Submission(
            board,
            period,
            player_id,
            score,
            metadata,
            idempotency_key=key,
            request_hash=request,
            actor=actor,
            request_id=REQUEST_ID.get(),
            evidence_url=evidence_url,
            span_periods=span_periods(board, self._clock()),
        )
        try:
            stored = await self._writer.commit(submission)
        except AlreadySubmitted:
            assert key is not None
            assert request is not None
            return await self._repeat(board, player_id, key, request)
        except OutcomeUnknownError:
            # Postgres may commit it yet: have any worker's index check look at it.
            await self._index.note_unknown(board, period, player_id)
            for span_no, span_period in enumerate(submission.span_periods, 1):
                await self._index.note_unknown(board.view_of(span_no), span_period, player_id)
            raise
        # Every span's index takes its row: one script call each, sent together (one
        # round trip through the worker's script pipeline).
        spans = await apply_spans(self._index, board, period, player_id, stored)
        primary = spans[board.reset]
        result = SubmitResult(
            player_id=player_id,
            score=stored.score,
            rank=primary.rank,
            previous_rank=primary.previous_rank,
            previous_score=primary.previous_score,
            changed=stored.changed,
            leaderboard=board.id,
            period=primary.period,
            submission_id=stored.submission_id,
            spans=spans,
        )
        if key and request:
            await self._idempotency.remember(board.id, player_id, key, request, result)
        return Submitted(result, decision.headers())

    async def _repeat_held(
        self, board: Board, player_id: str, key: str, request: bytes
    ) -> Submitted:
        """A keyed submission held for review whose key was there: the first answer (202)."""
        answer = await self._idempotency.answer(board.id, player_id, key)
        if answer is not None:
            same_request(answer.request, request.hex())
            return Submitted(answer.answer, replayed=True)
        # Not kept yet (the first attempt is answering now), or lost with Redis: the
        # key's row says which; nothing is held twice either way.
        record = await self._idempotency.record(board.id, player_id, key)
        if record is not None:
            same_request(record.request_hash.hex(), request.hex())
        raise ConflictError(
            "a submission with this Idempotency-Key was held for review; its answer is "
            "not available now (retry in a moment, or list your submissions)"
        )

    async def _repeat(self, board: Board, player_id: str, key: str, request: bytes) -> Submitted:
        """A keyed submission whose key is in Postgres already: answer as the first did."""
        answer = await self._idempotency.answer(board.id, player_id, key)
        if answer is not None:
            same_request(answer.request, request.hex())
            return Submitted(answer.answer, replayed=True)
        record = await self._idempotency.record(board.id, player_id, key)
        if record is None:  # forgotten (24 hours) between the two reads
            raise ConflictError("this Idempotency-Key was just forgotten; send it again")
        same_request(record.request_hash.hex(), request.hex())
        if datetime.now(UTC) - record.created_at < IN_PROGRESS_FOR:
            raise ConflictError(
                "a submission with this Idempotency-Key is still being processed; retry in a moment"
            )
        # The first attempt committed, but its answer was never kept (its client heard 503,
        # or its worker died): answer with the entry as it is now, put in the index.
        # Each other span's entry: of its current period (a repeat comes seconds later).
        periods = [record.period, *span_periods(board, self._clock())]
        spans: dict[str, SpanResult] = {}
        for view, span_period in zip(board.views(), periods, strict=True):
            change = await self._index.apply_stored(view, span_period, player_id)
            if change is None:
                raise NotFoundError(f"player {player_id!r} has no entry on {board.id!r} any more")
            spans[view.span] = SpanResult(
                period=public_period(span_period),
                score=change.score,
                rank=change.board_rank,
                previous_score=None,
                previous_rank=None,
                changed=True,
            )
        primary = spans[board.reset]
        result = SubmitResult(
            player_id=player_id,
            score=primary.score,
            rank=primary.rank,
            previous_rank=None,
            previous_score=None,
            changed=True,
            leaderboard=board.id,
            period=primary.period,
            spans=spans,
        )
        await self._idempotency.remember(board.id, player_id, key, request, result)
        return Submitted(result, replayed=True)

    async def remove_player(
        self, conn: Connection, player_id: str
    ) -> Callable[[], Awaitable[None]]:
        """Find a player's entries (in the deleting transaction); remove them after it commits.

        The Postgres rows go with the player (ON DELETE CASCADE). The index entries are
        removed only once the deletion is committed, so a rolled-back deletion leaves the
        player where they were.
        """
        entries = await self._scores.player_entries(conn, player_id)
        country = await self._scores.player_country(conn, player_id)  # gone after the commit

        async def remove_from_indexes() -> None:
            for board_id, span_no, period in entries:
                try:
                    board = (await self._boards.get(board_id)).view_of(span_no)
                    await self._index.remove(
                        board, period, player_id, forever=True, country=country
                    )
                    # An ended period's final standings lose them too (they are ranked
                    # again without them).
                    await self._index.results.changed(board, period)
                except NotFoundError:
                    continue  # the board went meanwhile, and its index with it
                except _RETRIED as exc:
                    logger.error(
                        "deleted player %s is still on %s (%s); run `leaderboard rebuild %s`",
                        player_id, board_id, exc, board_id,
                    )  # fmt: skip

        return remove_from_indexes
