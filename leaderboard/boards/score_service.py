"""Score submission: rate limit, commit in Postgres, apply to the index, announce."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from leaderboard.boards.board_service import BoardService
from leaderboard.boards.index_locator import IndexLocator
from leaderboard.boards.models import Board, SubmitResult
from leaderboard.boards.page_cache import TopPageCache
from leaderboard.boards.periods import period_key, public_period, resolve_period
from leaderboard.boards.rank_index import EventTarget, IndexChange, IndexNotReadyError, RankIndex
from leaderboard.boards.rebuild import Rebuilder
from leaderboard.boards.score_repository import ScoreRepository
from leaderboard.boards.score_writer import ScoreWriter, Submission
from leaderboard.events.models import event_head
from leaderboard.lib.db import Connection
from leaderboard.lib.errors import (
    DependencyUnavailableError,
    NotFoundError,
    RateLimitedError,
    ServiceError,
    outage_reason,
)
from leaderboard.lib.keys import Keys
from leaderboard.lib.metrics import EVENTS_PUBLISHED, SUBMISSIONS
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.validation import check_metadata
from leaderboard.players.ids import canonical_player_id
from leaderboard.ratelimit import RateLimiter, RateLimitPolicy

logger = logging.getLogger(__name__)

# How long a worker keeps trying to apply a committed score that missed the index.
REPAIR_FOR_SECONDS = 600


class ScoreService:
    def __init__(
        self,
        *,
        boards: BoardService,
        writer: ScoreWriter,
        scores: ScoreRepository,
        index: RankIndex,
        rebuilder: Rebuilder,
        locator: IndexLocator,
        limiter: RateLimiter,
        keys: Keys,
        top_pages: TopPageCache,
        stream_length: int = 1000,
        sharded_pubsub: bool = False,
    ) -> None:
        self._boards = boards
        self._writer = writer
        self._scores = scores
        self._index = index
        self._rebuilder = rebuilder
        self._locator = locator
        self._limiter = limiter
        self._keys = keys
        self._top_pages = top_pages
        self._stream_length = stream_length
        self._sharded_pubsub = sharded_pubsub
        self._repairs: set[asyncio.Task[None]] = set()

    async def submit_score(
        self, board_id: str, player_id: str, score: int, metadata: dict[str, Any] | None
    ) -> tuple[SubmitResult, dict[str, str]]:
        """Rate limit, commit, apply to the index; the result and the rate-limit headers.

        Counts every outcome in ``leaderboard_submissions_total``.
        """
        try:
            outcome = await self._submit(board_id, player_id, score, metadata)
        except RateLimitedError:
            SUBMISSIONS.labels("throttled").inc()
            raise
        except DependencyUnavailableError:
            SUBMISSIONS.labels("failed").inc()
            raise
        except ServiceError:
            SUBMISSIONS.labels("rejected").inc()
            raise
        SUBMISSIONS.labels("accepted").inc()
        return outcome

    async def _submit(
        self, board_id: str, player_id: str, score: int, metadata: dict[str, Any] | None
    ) -> tuple[SubmitResult, dict[str, str]]:
        check_metadata("metadata", metadata)
        board = await self._boards.get(board_id)
        player_id = canonical_player_id(player_id)
        policy = RateLimitPolicy(
            limit=board.rate_limit.limit, window_seconds=board.rate_limit.window_seconds
        )
        decision = await self._limiter.check(f"scores:{board.id}", player_id, policy)
        period = resolve_period(board.reset, None, self._locator.now())
        stored = await self._writer.commit(Submission(board, period, player_id, score, metadata))
        try:
            change = await self._apply(
                board, period, player_id, stored.score, stored.reached_seq, stored.changed
            )
        except REDIS_OUTAGE_ERRORS as exc:
            # Committed in Postgres, not yet in the index: keep trying in the background,
            # and tell the client not to submit again.
            self._schedule_repair(board, period, player_id)
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
        return result, decision.headers()

    async def _apply(
        self, board: Board, period: date, player_id: str, score: int, seq: int, changed: bool
    ) -> IndexChange:
        events = EventTarget(
            channel=self._keys.events_channel(board.id),
            stream=self._keys.events_stream(board.id),
            head=event_head(board.id, public_period(period), player_id, self._locator.now()),
            stream_length=self._stream_length,
            publish_command="SPUBLISH" if self._sharded_pubsub else "PUBLISH",
        )

        async def apply(after_rebuild: bool = False) -> IndexChange:
            return await self._index.apply(
                self._locator.keys(board, period),
                order=board.order,
                player_id=player_id,
                score=score,
                reached_seq=seq,
                expire_at_ms=self._locator.expire_at_ms(board, period),
                events=events,
                after_rebuild=after_rebuild,
            )

        try:
            change = await apply()
        except IndexNotReadyError:
            # Lost (Redis restarted empty, FLUSHALL) or never built: rebuild, then apply
            # again; the rebuilt index may hold this change already (a no-op then).
            await self._rebuilder.ensure_ready(board, period)
            self._top_pages.drop_board(board.id)
            # Announce a change the rebuild absorbed, but only a change: never an
            # unchanged submission's.
            return await apply(after_rebuild=changed)
        if change.written:
            self._top_pages.changed(board.id, period, change.rank, change.previous_rank)
        return change

    def _schedule_repair(self, board: Board, period: date, player_id: str) -> None:
        task = asyncio.create_task(self._repair(board, period, player_id))
        self._repairs.add(task)
        task.add_done_callback(self._repairs.discard)

    async def _repair(self, board: Board, period: date, player_id: str) -> None:
        """Apply a committed score that missed the index, once Redis answers again."""
        delay = 0.5
        deadline = asyncio.get_running_loop().time() + REPAIR_FOR_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(delay)
            try:
                stored = await self._scores.stored(board.id, period, player_id)
                if stored is not None:
                    await self._apply(
                        board, period, player_id, stored.score, stored.reached_seq, False
                    )
                return
            except NotFoundError:  # the player was deleted meanwhile: nothing to apply
                return
            except DependencyUnavailableError:
                delay = min(delay * 2, 30.0)
            except REDIS_OUTAGE_ERRORS:
                delay = min(delay * 2, 30.0)
        logger.error(
            "gave up applying %s's score on %s; run `leaderboard rebuild %s`",
            player_id,
            board.id,
            board.id,
        )

    @property
    def repairs_pending(self) -> int:
        """Committed scores this worker is still trying to put in the index."""
        return len(self._repairs)

    async def close(self) -> None:
        """Stop background repairs (shutdown); a rebuild repairs what they did not."""
        for task in list(self._repairs):
            task.cancel()
        await asyncio.gather(*self._repairs, return_exceptions=True)

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
