"""Score submission: rate limit, commit in Postgres, apply to the index, announce."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from leaderboard.boards.board_service import BoardService
from leaderboard.boards.idempotency import IdempotencyStore, request_hash
from leaderboard.boards.index_locator import IndexLocator
from leaderboard.boards.models import Board, SubmitResult
from leaderboard.boards.page_cache import TopPageCache
from leaderboard.boards.periods import period_key, public_period, resolve_period
from leaderboard.boards.rank_index import RankIndex
from leaderboard.boards.score_indexing import ScoreIndexer
from leaderboard.boards.score_repository import ScoreRepository
from leaderboard.boards.score_writer import AlreadySubmitted, ScoreWriter, Submission
from leaderboard.boards.submission_rules import check_rules, same_request
from leaderboard.lib.db import Connection
from leaderboard.lib.errors import (
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServiceError,
    outage_reason,
)
from leaderboard.lib.keys import Keys
from leaderboard.lib.logs import REQUEST_ID
from leaderboard.lib.metrics import EVENTS_PUBLISHED, SUBMISSIONS
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.validation import check_metadata
from leaderboard.players.ids import canonical_player_id
from leaderboard.ratelimit import RateLimiter, RateLimitPolicy

logger = logging.getLogger(__name__)

# How long the index check looks at a submission whose outcome was unknown: Postgres may
# commit it when it comes back, however late that is.
SUSPECT_FOR_MS = 3_600_000
# A repeat of a keyed submission whose first attempt committed less than this long ago and
# has no answer yet is told 409 (still being processed), later it gets the entry as it is.
IN_PROGRESS_FOR = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class Submitted:
    """A submission's answer: the result, the headers, and whether it was a repeat."""

    result: SubmitResult
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
        indexer: ScoreIndexer,
        locator: IndexLocator,
        limiter: RateLimiter,
        keys: Keys,
        top_pages: TopPageCache,
        idempotency: IdempotencyStore,
    ) -> None:
        self._boards = boards
        self._writer = writer
        self._scores = scores
        self._index = index
        self._indexer = indexer
        self._locator = locator
        self._limiter = limiter
        self._keys = keys
        self._top_pages = top_pages
        self._idempotency = idempotency

    async def submit_score(
        self,
        board_id: str,
        player_id: str,
        score: int,
        metadata: dict[str, Any] | None,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> Submitted:
        """Check the board's rules, rate limit, commit, apply to the index.

        ``actor`` is the admin or a server key submitting for the player (audited; None:
        the player themself). A keyed repeat gets the first answer. Counts every outcome
        in ``leaderboard_submissions_total``.
        """
        try:
            outcome = await self._submit(
                board_id, player_id, score, metadata, idempotency_key, actor
            )
        except RateLimitedError:
            SUBMISSIONS.labels("throttled").inc()
            raise
        except DependencyUnavailableError:
            SUBMISSIONS.labels("failed").inc()
            raise
        except ServiceError:
            SUBMISSIONS.labels("rejected").inc()
            raise
        SUBMISSIONS.labels("replayed" if outcome.replayed else "accepted").inc()
        return outcome

    async def _submit(
        self,
        board_id: str,
        player_id: str,
        score: int,
        metadata: dict[str, Any] | None,
        key: str | None,
        actor: str | None,
    ) -> Submitted:
        check_metadata("metadata", metadata)
        board = await self._boards.get(board_id)
        player_id = canonical_player_id(player_id)
        check_rules(board, score, actor, self._locator.now())
        request = request_hash(player_id, score, metadata) if key else None
        if key and request:
            answer = await self._idempotency.answer(board.id, player_id, key)
            if answer is not None:  # a repeat: neither limited nor written again
                same_request(answer.request, request.hex())
                return Submitted(answer.result, replayed=True)
        policy = RateLimitPolicy(
            limit=board.rate_limit.limit, window_seconds=board.rate_limit.window_seconds
        )
        decision = await self._limiter.check(f"scores:{board.id}", player_id, policy)
        period = resolve_period(board.reset, None, self._locator.now())
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
        )
        try:
            stored = await self._writer.commit(submission)
        except AlreadySubmitted:
            assert key is not None
            assert request is not None
            return await self._repeat(board, player_id, key, request)
        except OutcomeUnknownError:
            # Postgres may commit it yet: have any worker's index check look at it.
            await self._suspect(board, period, player_id)
            raise
        try:
            change = await self._indexer.apply(
                board, period, player_id, stored.score, stored.reached_seq, stored.changed
            )
        except REDIS_OUTAGE_ERRORS as exc:
            # Committed in Postgres, not yet in the index: keep trying in the background,
            # and tell the client not to submit again.
            self._indexer.schedule_repair(board, period, player_id)
            raise DependencyUnavailableError(
                "redis",
                f"the score was recorded, but its rank cannot be read now ({outage_reason(exc)})",
            ) from exc
        if change.published:
            EVENTS_PUBLISHED.inc()
        result = SubmitResult(
            player_id=player_id,
            score=stored.score,
            rank=change.rank,
            previous_rank=change.previous_rank if stored.changed else change.rank,
            previous_score=change.previous_score if stored.changed else stored.score,
            changed=stored.changed,
            leaderboard=board.id,
            period=public_period(period),
        )
        if stored.inserted or change.previous_rank is None:
            result.previous_rank = result.previous_score = None
        elif stored.changed and not change.written:
            # The index held this change already (a rebuild read it from Postgres) or a
            # newer one: what the entry was before this submission is not known.
            result.previous_rank = result.previous_score = None
        if key and request:
            await self._idempotency.remember(board.id, player_id, key, request, result)
        return Submitted(result, decision.headers())

    async def _repeat(self, board: Board, player_id: str, key: str, request: bytes) -> Submitted:
        """A keyed submission whose key is in Postgres already: answer as the first did."""
        answer = await self._idempotency.answer(board.id, player_id, key)
        if answer is not None:
            same_request(answer.request, request.hex())
            return Submitted(answer.result, replayed=True)
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
        stored = await self._scores.stored(board.id, record.period, player_id)
        if stored is None:
            raise NotFoundError(f"player {player_id!r} has no entry on {board.id!r} any more")
        change = await self._indexer.apply(
            board, record.period, player_id, stored.score, stored.reached_seq, False
        )
        result = SubmitResult(
            player_id=player_id,
            score=stored.score,
            rank=change.rank,
            previous_rank=None,
            previous_score=None,
            changed=True,
            leaderboard=board.id,
            period=public_period(record.period),
        )
        await self._idempotency.remember(board.id, player_id, key, request, result)
        return Submitted(result, replayed=True)

    async def _suspect(self, board: Board, period: date, player_id: str) -> None:
        until = int(time.time() * 1000) + SUSPECT_FOR_MS
        try:
            await self._index.add_suspect(
                self._keys.suspects(board.id), period_key(period), player_id, until
            )
        except REDIS_OUTAGE_ERRORS:
            logger.warning("cannot note %s's unknown write on %s in Redis", player_id, board.id)

    @property
    def repairs_pending(self) -> int:
        """Committed scores this worker is still trying to put in the index."""
        return self._indexer.repairs_pending

    async def close(self) -> None:
        await self._indexer.close()

    async def remove_player(
        self, conn: Connection, player_id: str
    ) -> Callable[[], Awaitable[None]]:
        """Find a player's entries (in the deleting transaction); remove them after it commits.

        The Postgres rows go with the player (ON DELETE CASCADE). The index entries are
        removed only once the deletion is committed, so a rolled-back deletion leaves the
        player where they were.
        """
        entries = await self._scores.player_entries(conn, player_id)

        async def remove_from_indexes() -> None:
            for board_id, period in entries:
                keys = self._keys.index(board_id, period_key(period))
                try:
                    await self._index.remove(keys, player_id)
                    self._top_pages.drop_board(board_id)
                except REDIS_OUTAGE_ERRORS as exc:
                    logger.error(
                        "deleted player %s is still on %s (%s); run `leaderboard rebuild %s`",
                        player_id, board_id, exc, board_id,
                    )  # fmt: skip

        return remove_from_indexes
