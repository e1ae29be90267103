"""Score submission and the ranked reads (top, a player's entry, around)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from leaderboard.boards.index import Applied, BoardIndex, EventTarget, IndexNotReadyError, Slice
from leaderboard.boards.models import Board, Entry, Page, PlayerEntry, SubmitResult
from leaderboard.boards.page_cache import TopPageCache
from leaderboard.boards.periods import (
    period_end,
    period_key,
    period_start,
    public_period,
    resolve_period,
)
from leaderboard.boards.rebuild import Rebuilder
from leaderboard.boards.service import BoardService
from leaderboard.db import Connection
from leaderboard.errors import (
    DependencyUnavailableError,
    InvalidInputError,
    NotFoundError,
    outage_reason,
)
from leaderboard.events.models import event_head
from leaderboard.keys import IndexKeys, Keys
from leaderboard.metrics import EVENTS_PUBLISHED
from leaderboard.players.service import ProfileService, canonical_player_id
from leaderboard.ratelimit import RateLimiter, RateLimitPolicy
from leaderboard.redis_client import REDIS_OUTAGE_ERRORS

logger = logging.getLogger(__name__)

# A periodic board's index lives on this long after its period ends; a past period
# rebuilt on demand lives at least this long.
PERIOD_RETENTION = timedelta(days=7)
# How long a worker keeps trying to apply a committed score that missed the index.
REPAIR_FOR_SECONDS = 600
REBUILT_PAST_PERIOD_TTL = timedelta(hours=1)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class ScoreService:
    def __init__(
        self,
        boards: BoardService,
        index: BoardIndex,
        profiles: ProfileService,
        limiter: RateLimiter,
        keys: Keys,
        clock: Clock = system_clock,
        *,
        stream_length: int = 1000,
        sharded_pubsub: bool = False,
        top_pages: TopPageCache | None = None,
    ) -> None:
        self._boards = boards
        self._index = index
        self._profiles = profiles
        self._limiter = limiter
        self._keys = keys
        self._clock = clock
        self._stream_length = stream_length
        self._sharded_pubsub = sharded_pubsub
        self._top_pages = top_pages or TopPageCache(0)
        self.rebuilder = Rebuilder(index.redis, index, boards.repository)
        self._repairs: set[asyncio.Task[None]] = set()

    def today(self) -> date:
        return self._clock().astimezone(UTC).date()

    def index_keys(self, board: Board, period: date) -> IndexKeys:
        return self._keys.index(board.id, period_key(period))

    def expire_at_ms(self, board: Board, period: date) -> int:
        """When a period's index keys expire (0: never, for boards that never reset)."""
        end = period_end(board.reset, period)
        if end is None:
            return 0
        expires = datetime.combine(end, time(), UTC) + PERIOD_RETENTION
        expires = max(expires, self._clock() + REBUILT_PAST_PERIOD_TTL)
        return int(expires.timestamp() * 1000)

    async def submit(
        self, board_id: str, player_id: str, score: int, metadata: dict[str, Any] | None
    ) -> tuple[SubmitResult, dict[str, str]]:
        """Rate limit, commit in Postgres, apply to the index; the result and rate headers."""
        board = await self._boards.get(board_id)
        player_id = canonical_player_id(player_id)
        policy = RateLimitPolicy(
            limit=board.rate_limit.limit, window_seconds=board.rate_limit.window_seconds
        )
        decision = await self._limiter.check(f"scores:{board.id}", player_id, policy)
        period = resolve_period(board.reset, None, self._clock())
        stored = await self._boards.repository.submit(board, period, player_id, score, metadata)
        try:
            applied = await self._apply(
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
        if applied.published:
            EVENTS_PUBLISHED.inc()
        result = SubmitResult(
            player_id=player_id,
            score=stored.score,
            rank=applied.rank,
            previous_rank=applied.previous_rank if stored.changed else applied.rank,
            previous_score=applied.previous_score if stored.changed else stored.score,
            changed=stored.changed,
            leaderboard=board.id,
            period=public_period(period),
        )
        if stored.inserted or applied.previous_rank is None:
            result.previous_rank = result.previous_score = None
        elif stored.changed and not applied.applied:
            # The index held this change already (a rebuild read it from Postgres) or a
            # newer one: what the entry was before this submission is not known.
            result.previous_rank = result.previous_score = None
        return result, decision.headers()

    async def _apply(
        self, board: Board, period: date, player_id: str, score: int, seq: int, changed: bool
    ) -> Applied:
        keys = self.index_keys(board, period)
        expire_at = self.expire_at_ms(board, period)
        events = EventTarget(
            channel=self._keys.events_channel(board.id),
            stream=self._keys.events_stream(board.id),
            head=event_head(board.id, public_period(period), player_id, self._clock()),
            stream_length=self._stream_length,
            publish_command="SPUBLISH" if self._sharded_pubsub else "PUBLISH",
        )
        args = (keys, board.order, player_id, score, seq, expire_at, events)
        try:
            applied = await self._index.apply(*args)
        except IndexNotReadyError:
            # Lost (Redis restarted empty, FLUSHALL) or never built: rebuild, then apply
            # again; the rebuilt index may hold this change already (a no-op then).
            await self.rebuilder.ensure_ready(board, period, keys, expire_at)
            self._top_pages.drop_board(board.id)
            # Announce a change the rebuild absorbed, but only a change: never an
            # unchanged submission's.
            return await self._index.apply(*args, after_rebuild=changed)
        if applied.applied:
            self._top_pages.changed(board.id, period, applied.rank, applied.previous_rank)
        return applied

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
                stored = await self._boards.repository.stored(board.id, period, player_id)
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

    async def close(self) -> None:
        """Stop background repairs (shutdown); a rebuild repairs what they did not."""
        for task in list(self._repairs):
            task.cancel()
        await asyncio.gather(*self._repairs, return_exceptions=True)

    def _read_period(self, board: Board, period: str | None) -> date:
        start = resolve_period(board.reset, period, self._clock())
        if start < period_start(board.reset, board.created_at.astimezone(UTC).date()):
            # Refused rather than rebuilt: every such date would cost a rebuild and a key.
            raise InvalidInputError("period", "the leaderboard did not exist yet then")
        return start

    async def _read(
        self, board: Board, start: date, read: Callable[[IndexKeys], Awaitable[Slice]]
    ) -> Slice:
        """Read a period's index, rebuilding it first when it is missing."""
        keys = self.index_keys(board, start)
        try:
            return await read(keys)
        except IndexNotReadyError:
            await self.rebuilder.ensure_ready(board, start, keys, self.expire_at_ms(board, start))
            self._top_pages.drop_board(board.id)
            return await read(keys)

    async def top(self, board_id: str, period: str | None, offset: int, limit: int) -> Page:
        board = await self._boards.get(board_id)
        start = self._read_period(board, period)
        cached = self._top_pages.get(board.id, (start, offset, limit))
        if cached is not None:
            return cached
        read_at = self._top_pages.version(board.id)
        page = await self._read(
            board, start, lambda keys: self._index.top(keys, board.order, offset, limit)
        )
        result = Page(
            leaderboard=board.id,
            period=public_period(start),
            total=page.total,
            entries=await self._entries(page),
        )
        self._top_pages.put(board.id, (start, offset, limit), result, read_at)
        return result

    async def around(self, board_id: str, player_id: str, period: str | None, radius: int) -> Page:
        board, start, page = await self._around(board_id, player_id, period, radius)
        return Page(
            leaderboard=board.id,
            period=public_period(start),
            total=page.total,
            entries=await self._entries(page),
        )

    async def entry(self, board_id: str, player_id: str, period: str | None) -> PlayerEntry:
        board, start, page = await self._around(board_id, player_id, period, 0)
        (entry,) = await self._entries(page)
        return PlayerEntry(
            player_id=entry.player_id,
            display_name=entry.display_name,
            score=entry.score,
            rank=entry.rank,
            total=page.total,
            leaderboard=board.id,
            period=public_period(start),
        )

    async def _around(
        self, board_id: str, player_id: str, period: str | None, radius: int
    ) -> tuple[Board, date, Slice]:
        player_id = canonical_player_id(player_id)
        board = await self._boards.get(board_id)
        start = self._read_period(board, period)
        page = await self._read(
            board, start, lambda keys: self._index.around(keys, board.order, player_id, radius)
        )
        if page.player_rank is None:
            raise NotFoundError(f"player {player_id!r} has no entry on {board.id!r}")
        return board, start, page

    async def _entries(self, page: Slice) -> list[Entry]:
        names = await self._profiles.display_names([player for player, _ in page.entries])
        return [
            Entry(
                rank=page.first_rank + i,
                player_id=player,
                display_name=names.get(player),
                score=score,
            )
            for i, (player, score) in enumerate(page.entries)
        ]

    async def remove_player(
        self, conn: Connection, player_id: str
    ) -> Callable[[], Awaitable[None]]:
        """Find a player's entries (in the deleting transaction); remove them after it commits.

        The Postgres rows go with the player (ON DELETE CASCADE). The index entries are
        removed only once the deletion is committed, so a rolled-back deletion leaves the
        player where they were.
        """
        entries = await self._boards.repository.player_entries(conn, player_id)

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
