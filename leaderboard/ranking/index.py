"""The rank index: the one way into a board's Redis index for every other part.

Postgres holds the record; this holds, per board period, a sorted set that answers ranks
in O(log N) (docs/ranking.md). Callers speak of boards, periods and players; this class
owns what lies behind: the keys and their lifetimes (locator.py), the scripts
(scripts.py), rebuilding an index that is missing (rebuild.py), the events a change
publishes (their channel, stream and constant parts), and the worker's cached top pages
(page_cache.py), which every change here drops where it must. Nothing outside ranking/
touches those.

- the write path (scores/) applies committed scores, retries one that missed the index
  after an outage, and notes writes whose outcome was unknown;
- moderation removes entries (and puts them back);
- the index guard (guard.py) and retention (scores/retention.py) check, repair, lock
  and drop periods;
- the ranked reads (service.py) read through :meth:`read` and :meth:`top_page`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date
from typing import TypeVar

from leaderboard.boards.models import Board
from leaderboard.boards.periods import oldest_kept, period_key, period_start, public_period
from leaderboard.events.models import entry_removed_head, event_head, overtaken_parts
from leaderboard.lib.clock import Clock
from leaderboard.lib.errors import DependencyUnavailableError, NotFoundError
from leaderboard.lib.keys import IndexKeys, Keys
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS, AnyRedis, run_id_of
from leaderboard.lib.tasks import stop_tasks
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.models import Page
from leaderboard.ranking.page_cache import PageKey, TopPageCache
from leaderboard.ranking.rebuild import IndexLock, Progress, Rebuilder
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ranking.values import (
    CheckState,
    EventTarget,
    HeldEntry,
    IndexChange,
    IndexNotReadyError,
)

logger = logging.getLogger(__name__)

# What callers of the façade may see of what lies behind it.
__all__ = ["EventSettings", "IndexChange", "IndexNotReadyError", "PeriodLock", "RankIndex"]

Read = TypeVar("Read")

# How long a worker keeps trying to apply a committed score that missed the index (the
# index guard repairs it too, from any worker, if this one dies first).
REPAIR_FOR_SECONDS = 600
# How long the guard looks at a submission whose outcome was unknown: Postgres may commit
# it when it comes back, however late that is.
SUSPECT_FOR_MS = 3_600_000
# What a retry outlasts (the dependency comes back), rather than gives up on.
_RETRIED: tuple[type[Exception], ...] = (DependencyUnavailableError, *REDIS_OUTAGE_ERRORS)
# The ready marker of indexes built before markers held a run id.
LEGACY_MARKER = "1"


@dataclass(frozen=True, slots=True)
class EventSettings:
    """How changes are announced: the stream's length, and pub/sub's flavour."""

    stream_length: int = 1000
    sharded_pubsub: bool = False
    """SPUBLISH (a Redis Cluster) instead of PUBLISH."""


class PeriodLock:
    """A period's rebuild lock, held (see :meth:`RankIndex.locked`)."""

    def __init__(self, lock: IndexLock, dropped: Callable[[], None]) -> None:
        self._lock = lock
        self._dropped = dropped

    async def renew(self) -> bool:
        """Hold it a while longer; False when it was lost (it expired)."""
        return await self._lock.renew()

    async def drop(self) -> None:
        """Delete the period's index: its rows are gone from Postgres."""
        await self._lock.drop()
        self._dropped()


class RankIndex:
    """The façade: one per worker, shared by every board and every caller."""

    def __init__(
        self,
        *,
        redis: AnyRedis,
        scripts: IndexScripts,
        records: ScoreRecords,
        rebuilder: Rebuilder,
        locator: IndexLocator,
        keys: Keys,
        top_pages: TopPageCache,
        events: EventSettings,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._redis = redis
        self._scripts = scripts
        self._records = records
        self._rebuilder = rebuilder
        self._locator = locator
        self._keys = keys
        self._top_pages = top_pages
        self._events = events
        self._repairs: set[asyncio.Task[None]] = set()

    # -- changes -------------------------------------------------------------------------

    async def apply(
        self,
        board: Board,
        period: date,
        player_id: str,
        score: int,
        seq: int,
        *,
        changed: bool,
        announce: bool = True,
        if_ready: bool = False,
    ) -> IndexChange:
        """Put a committed (score, sequence) in the period's index, building it if lost.

        One ``rank_changed`` event (and ``overtaken`` ones) go out when the index changes
        and ``announce``; a change a rebuild absorbed is announced too, but only if it was
        one (``changed``): never an unchanged submission's. ``if_ready``: an index that is
        not built raises IndexNotReadyError instead (it reads the entry when it is built).
        """
        events = self._change_events(board, period, player_id) if announce else None

        async def apply(after_rebuild: bool = False) -> IndexChange:
            return await self._apply_script(
                board, period, player_id, score, seq, events, after_rebuild=after_rebuild
            )

        try:
            change = await apply()
        except IndexNotReadyError:
            if if_ready:
                raise
            # Lost (Redis restarted empty, FLUSHALL) or never built: rebuild, then apply
            # again; the rebuilt index may hold this change already (a no-op then).
            await self.ensure_ready(board, period)
            return await apply(after_rebuild=changed)
        if change.written:
            self._top_pages.changed(board.id, period, change.rank, change.previous_rank)
        return change

    async def restore(
        self, board: Board, period: date, player_id: str, score: int, seq: int
    ) -> IndexChange:
        """Put an entry back (an unban) and announce it: one ``entry_restored`` event.

        Announced also when the index holds the entry already (the index guard or a
        rebuild read it from Postgres after the unban committed): the pages open on the
        board learn of it from nothing else. An index that is not built raises
        IndexNotReadyError (it reads the entry when it is built).
        """
        now = self._clock()
        head = event_head(board.id, public_period(period), player_id, now, "entry_restored")
        events = self._event_target(board, head)
        change = await self._apply_script(
            board, period, player_id, score, seq, events, after_rebuild=True
        )
        if change.written:
            self._top_pages.changed(board.id, period, change.rank, change.previous_rank)
        return change

    async def apply_stored(self, board: Board, period: date, player_id: str) -> IndexChange | None:
        """Put what Postgres holds for the player now in the index; None: no entry there."""
        stored = await self._records.stored(board.id, period, player_id)
        if stored is None:
            return None
        return await self.apply(
            board, period, player_id, stored.score, stored.reached_seq, changed=False
        )

    def apply_later(self, board: Board, period: date, player_id: str) -> None:
        """Keep trying to apply the player's committed score (Redis is down now)."""
        task = asyncio.create_task(self._apply_when_back(board, period, player_id))
        self._repairs.add(task)
        task.add_done_callback(self._repairs.discard)

    async def remove(
        self,
        board: Board,
        period: date,
        player_id: str,
        *,
        forever: bool = False,
        announce: bool = False,
    ) -> bool:
        """Take a player's entry out; True when there was one.

        ``forever`` (a deleted player): a late write of an older score is refused too.
        ``announce``: an ``entry_removed`` event goes out when an entry was removed.
        """
        events = None
        if announce:
            events = self._event_target(
                board,
                entry_removed_head(board.id, public_period(period), player_id, self._clock()),
            )
        removed = await self._scripts.remove(
            self._locator.keys(board, period), player_id, forever=forever, events=events
        )
        self._top_pages.drop_board(board.id)
        return removed

    async def note_unknown(self, board: Board, period: date, player_id: str) -> None:
        """A write whose outcome is unknown: the guard compares it with Postgres for a while."""
        until = int(time.time() * 1000) + SUSPECT_FOR_MS
        try:
            await self._scripts.add_suspect(
                self._keys.suspects(board.id), period_key(period), player_id, until
            )
        except REDIS_OUTAGE_ERRORS:
            logger.warning("cannot note %s's unknown write on %s in Redis", player_id, board.id)

    # -- reads ---------------------------------------------------------------------------

    def holds_nothing(self, board: Board, period: date) -> bool:
        """True for a period before the board existed or past its keep_periods.

        Such a period has no index to build or read: answering empty spares every such
        date a rebuild and a key, and makes the retention window exact at midnight rather
        than at the retention job's next round.
        """
        if period < period_start(board.reset, board.created_at.astimezone(UTC).date()):
            return True
        kept = oldest_kept(board, self._clock().astimezone(UTC).date())
        return kept is not None and period < kept

    async def read(
        self,
        board: Board,
        period: date,
        read: Callable[[IndexScripts, IndexKeys], Awaitable[Read]],
    ) -> Read:
        """Run a read script on the period's index, rebuilding the index first if lost."""
        keys = self._locator.keys(board, period)
        try:
            return await read(self._scripts, keys)
        except IndexNotReadyError:
            await self.ensure_ready(board, period)
            return await read(self._scripts, keys)

    async def top_page(
        self, board: Board, key: PageKey, build: Callable[[], Awaitable[Page]]
    ) -> Page:
        """A top page from this worker's cache, a read under way, or ``build()``."""
        return await self._top_pages.page(board.id, key, build)

    # -- upkeep --------------------------------------------------------------------------

    async def ensure_ready(self, board: Board, period: date) -> None:
        """Make the index ready: rebuild it here, or wait for the worker that does."""
        await self._rebuilder.ensure_ready(board, period)
        self._top_pages.drop_board(board.id)

    async def rebuild(
        self, board: Board, period: date, progress: Progress | None = None
    ) -> int | None:
        """Rebuild now from Postgres; the entry count, or None when another rebuild runs."""
        entries = await self._rebuilder.rebuild(board, period, progress)
        if entries is not None:
            self._top_pages.drop_board(board.id)
        return entries

    @asynccontextmanager
    async def locked(self, board: Board, period: date) -> AsyncIterator[PeriodLock | None]:
        """Hold the period's rebuild lock (None: a rebuild holds it now; try later).

        While it is held no rebuild can read the period's rows and swap them back in
        after they went (retention deletes rows, then :meth:`PeriodLock.drop`).
        """
        async with self._rebuilder.locked(board, period) as lock:
            if lock is None:
                yield None
            else:
                yield PeriodLock(lock, lambda: self._top_pages.drop_board(board.id))

    async def forget_board(self, board_id: str) -> None:
        """Unlink every index key of a board (created anew, or deleted) and its pages."""
        batch: list[str] = []
        async for key in self._redis.scan_iter(match=self._keys.board_pattern(board_id), count=500):
            batch.append(key)
            if len(batch) >= 500:
                await self._redis.unlink(*batch)
                batch.clear()
        if batch:
            await self._redis.unlink(*batch)
        self._top_pages.drop_board(board_id)

    def forget_names(self) -> None:
        """A player was renamed or deleted: the cached top pages show old names."""
        self._top_pages.clear()

    async def take_check(
        self, board: Board, period: date, interval_ms: int
    ) -> tuple[CheckState, bool] | None:
        """Take this round's check of a ready index (None: taken elsewhere, or not built).

        Returns what the index holds and whether it was built on this Redis server (a
        marker of another run id: a restart or failover since; rebuild it).
        """
        keys = self._locator.keys(board, period)
        state = await self._scripts.check(
            keys, self._keys.suspects(board.id), interval_ms, int(time.time() * 1000)
        )
        if state is None or state.marker is None:
            return None
        run_id = await run_id_of(self._redis, keys.ready)
        if state.marker == LEGACY_MARKER:
            await self._redis.set(keys.ready, run_id, xx=True, keepttl=True)
            return state, True
        return state, state.marker == run_id

    async def held(self, board: Board, period: date, player_ids: list[str]) -> list[HeldEntry]:
        """What the index holds for each of ``player_ids``, in order."""
        return await self._scripts.entries_of(self._locator.keys(board, period), player_ids)

    async def window(
        self, board: Board, period: date, first: int, count: int
    ) -> list[tuple[str, str]]:
        """(player id, Redis score) of ``count`` entries from position ``first`` (0-based)."""
        return await self._scripts.window(
            self._locator.keys(board, period), first, first + count - 1
        )

    async def correct(
        self, board: Board, period: date, player_id: str, seen: HeldEntry, score: int, seq: int
    ) -> bool:
        """Make the player's entry Postgres' (score, seq), if the index still holds ``seen``.

        An entry older than Postgres' is applied like a late write; one that looks newer
        or differs at the same sequence is overwritten: Postgres wins.
        """
        if seen.seq is None or seen.seq < seq:
            change = await self.apply(
                board, period, player_id, score, seq, changed=False, announce=False
            )
            return change.written
        corrected = await self._scripts.repair(
            self._locator.keys(board, period),
            order=board.order,
            player_id=player_id,
            seen=seen,
            score=score,
            reached_seq=seq,
        )
        if corrected:
            self._top_pages.drop_board(board.id)
        return corrected

    async def save_cursors(
        self, board: Board, period: date, player_cursor: str, rank_cursor: int
    ) -> None:
        """Where the guard's rolling check goes on next round (any worker's)."""
        await self._scripts.save_cursors(
            self._locator.keys(board, period), player_cursor, rank_cursor
        )

    @property
    def rebuilds(self) -> int:
        """How many rebuilds this worker ran (metrics, tests)."""
        return self._rebuilder.rebuilds

    @property
    def repairs_pending(self) -> int:
        """Committed scores this worker is still trying to put in the index."""
        return len(self._repairs)

    async def close(self) -> None:
        """Stop background repairs (shutdown); the guard repairs what they did not."""
        await stop_tasks(list(self._repairs))

    # -- inside --------------------------------------------------------------------------

    async def _apply_script(
        self,
        board: Board,
        period: date,
        player_id: str,
        score: int,
        seq: int,
        events: EventTarget | None,
        *,
        after_rebuild: bool,
    ) -> IndexChange:
        """One run of the apply script on the period's index (no rebuild, no page cache)."""
        return await self._scripts.apply(
            self._locator.keys(board, period),
            order=board.order,
            player_id=player_id,
            score=score,
            reached_seq=seq,
            ttl_ms=self._locator.ttl_ms(board, period),
            events=events,
            after_rebuild=after_rebuild,
        )

    def _event_target(
        self, board: Board, head: str, *, overtake: int = 0, overtaken: tuple[str, str] = ("", "")
    ) -> EventTarget:
        """Where a change of ``board`` is announced (its channel and stream), and how.

        The one place that addresses events: every script that publishes is given this.
        """
        return EventTarget(
            channel=self._keys.events_channel(board.id),
            stream=self._keys.events_stream(board.id),
            head=head,
            stream_length=self._events.stream_length,
            publish_command="SPUBLISH" if self._events.sharded_pubsub else "PUBLISH",
            overtake=overtake,
            overtaken_head=overtaken[0],
            overtaken_middle=overtaken[1],
        )

    def _change_events(self, board: Board, period: date, player_id: str) -> EventTarget:
        now, public = self._clock(), public_period(period)
        return self._event_target(
            board,
            event_head(board.id, public, player_id, now),
            overtake=board.overtake_events,
            overtaken=overtaken_parts(board.id, public, player_id, now),
        )

    async def _apply_when_back(self, board: Board, period: date, player_id: str) -> None:
        """Apply a committed score that missed the index, once Redis answers again."""
        delay = 0.5
        deadline = asyncio.get_running_loop().time() + REPAIR_FOR_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(delay)
            try:
                await self.apply_stored(board, period, player_id)
                return
            except NotFoundError:  # the player was deleted meanwhile: nothing to apply
                return
            except _RETRIED:
                delay = min(delay * 2, 30.0)
        logger.error(
            "gave up applying %s's score on %s; run `leaderboard rebuild %s`",
            player_id,
            board.id,
            board.id,
        )
