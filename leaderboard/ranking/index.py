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

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date
from typing import TypeVar

from leaderboard.boards.models import Board
from leaderboard.boards.periods import oldest_kept, period_start
from leaderboard.lib.clock import Clock
from leaderboard.lib.keys import IndexKeys, Keys
from leaderboard.lib.redis_client import AnyRedis, unlink_matching
from leaderboard.ranking.announce import Announcements, EventSettings
from leaderboard.ranking.changes import SpanChange
from leaderboard.ranking.checks import IndexChecks
from leaderboard.ranking.index_writes import IndexWrites
from leaderboard.ranking.late_writes import LateWrites
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.models import Page
from leaderboard.ranking.page_cache import PageKey, TopPageCache
from leaderboard.ranking.rebuild import IndexLock, Progress, Rebuilder
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.results import PeriodResults
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ranking.values import IndexChange, IndexNotReadyError

# What callers of the façade may see of what lies behind it.
__all__ = [
    "EventSettings",
    "IndexChange",
    "IndexLock",
    "IndexNotReadyError",
    "RankIndex",
    "SpanChange",
]

Read = TypeVar("Read")


class RankIndex(IndexWrites):
    """The façade: one per worker, shared by every board and every caller.

    Its writes (apply, remove, restore, correct, ensure_ready …) are in index_writes.py;
    here are its reads, its upkeep and what it is made of.
    """

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
        results: PeriodResults,
    ) -> None:
        self._clock = clock
        self._announce = Announcements(keys, events, clock)
        self._late = LateWrites(self.apply_stored)
        self.checks = IndexChecks(redis, scripts, locator, keys)
        """What the guard reads of an index to check it (checks.py); it repairs here."""
        self.results = results
        """Ended periods' frozen standings (results.py): retention freezes them, moderation
        after the end freezes a period again (``results.changed``)."""
        self._redis = redis
        self._scripts = scripts
        self._records = records
        self._rebuilder = rebuilder
        self._locator = locator
        self._keys = keys
        self._top_pages = top_pages

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
        country: str | None = None,
    ) -> Read:
        """Run a read script on the period's index, rebuilding the index first if lost.

        ``country``: on that country's index of the period (a segmented board's).
        """
        keys = self._locator.keys(board, period, country)
        try:
            return await read(self._scripts, keys)
        except IndexNotReadyError:
            await self.ensure_ready(board, period, country)
            return await read(self._scripts, keys)

    async def standing(
        self, board: Board, period: date, player_id: str, place: int
    ) -> tuple[tuple[int, int] | None, dict[int, tuple[str, int]]]:
        """The player's (rank, score) or None, and the entries ranked ``place`` and ``place + 1``.

        By 1-based rank (two reads): what a review rule needs to tell whether a new score
        would rank the player within the top ``place``.
        """
        if self.holds_nothing(board, period):
            return None, {}
        entry = await self.read(
            board, period, lambda scripts, keys: scripts.entry(keys, board.order, player_id)
        )
        own = None
        if entry.player_rank is not None:
            own = (entry.player_rank, entry.entries[-1][1])
        window = await self.read(
            board, period, lambda scripts, keys: scripts.top(keys, board.order, place - 1, 2)
        )
        ranked = {window.first_rank + i: item for i, item in enumerate(window.entries)}
        return own, ranked

    async def top_page(
        self, board: Board, key: PageKey, build: Callable[[], Awaitable[Page]]
    ) -> Page:
        """A top page from this worker's cache, a read under way, or ``build()``."""
        return await self._top_pages.page(board.id, key, build)

    # -- upkeep --------------------------------------------------------------------------

    async def rebuild(
        self, board: Board, period: date, progress: Progress | None = None
    ) -> int | None:
        """Rebuild now from Postgres; the entry count, or None when another rebuild runs."""
        entries = await self._rebuilder.rebuild(board, period, progress)
        if entries is not None:
            self._top_pages.drop_board(board.id)
        return entries

    @asynccontextmanager
    async def locked(self, board: Board, period: date) -> AsyncIterator[IndexLock | None]:
        """Hold the period's rebuild lock (None: a rebuild holds it now; try later).

        While it is held no rebuild can read the period's rows and swap them back in
        after they went (retention deletes rows, then :meth:`IndexLock.drop`).
        """
        async with self._rebuilder.locked(
            board, period, on_drop=lambda: self._top_pages.drop_board(board.id)
        ) as lock:
            yield lock

    async def forget_board(self, board_id: str) -> None:
        """Unlink every index key of a board (created anew, or deleted) and its pages."""
        await unlink_matching(self._redis, self._keys.board_pattern(board_id))
        self._top_pages.drop_board(board_id)

    def forget_names(self) -> None:
        """A player was renamed or deleted: the cached top pages show old names."""
        self._top_pages.clear()

    @property
    def rebuilds(self) -> int:
        """How many rebuilds this worker ran (metrics, tests)."""
        return self._rebuilder.rebuilds

    @property
    def repairs_pending(self) -> int:
        """Committed scores this worker is still trying to put in the index."""
        return self._late.pending

    async def close(self) -> None:
        """Stop background repairs (shutdown); the guard repairs what they did not."""
        await self._late.close()
