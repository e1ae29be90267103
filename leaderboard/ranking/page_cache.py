"""Top pages a worker served a moment ago, served again without Redis (``top`` only).

A top-100 page costs a worker ~20 times a bare response to build (the index read, the names,
encoding 100 entries), and the top of a busy board is read far more often than it
changes position. So each worker keeps the pages it built for ``ttl`` seconds
(``LEADERBOARD_TOP_PAGE_CACHE_MS``, 500 ms by default; 0 turns it off).

What a reader may see: a page at most ``ttl`` old. The worker's own changes are never
hidden: a change this worker applies drops its cached pages of that board period that
the change touches (the ranks between the old and the new position, and every page
when the board's total changes); a deleted player, a deleted board or a renamed player
drops more. Changes made through other workers or instances show up within ``ttl``.
A player's own rank (``/players/{id}``, ``/around``) is never cached.

Readers that miss together share one read (:meth:`TopPageCache.page`): a reader joins a
read of the same page only if this worker applied no change to the board since that read
began, so joining never hides the worker's own changes either. Without it, under a steady
stream of submissions every change sent each reader that arrived during the rebuild to
Redis on its own (docs/benchmarks.md, the mixed load).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date

from leaderboard.lib.metrics import BUFFER, TOP_PAGE_CACHE
from leaderboard.ranking.models import Page

# period start, offset, limit, rank style, country (a segment's page) or None, span
PageKey = tuple[date, int, int, str, str | None, str]
_HITS, _MISSES = BUFFER.counter(TOP_PAGE_CACHE, "hit"), BUFFER.counter(TOP_PAGE_CACHE, "miss")
_SHARED = BUFFER.counter(TOP_PAGE_CACHE, "shared")
# What the cache had seen of a board when a page's read began (see TopPageCache.version).
Version = tuple[int, int]


class TopPageCache:
    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_pages: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_pages = max_pages
        self._clock = clock
        self._boards: dict[str, dict[PageKey, tuple[float, Page]]] = {}
        self._size = 0
        # Bumped by every change, drop and clear: a page read before one of them must
        # not be cached after it (it may miss the change, and nothing is left to drop).
        self._changes: dict[str, int] = {}
        self._clears = 0
        # The reads under way: what the cache had seen when each began, and its outcome.
        self._reads: dict[tuple[str, PageKey], tuple[Version, asyncio.Future[Page]]] = {}

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    async def page(self, board_id: str, key: PageKey, read: Callable[[], Awaitable[Page]]) -> Page:
        """The page from the cache, from a read under way, or from ``read()``.

        A page read here is kept for the next readers unless the board changed meanwhile.
        """
        if not self.enabled:
            return await read()
        cached = self.get(board_id, key)
        if cached is not None:
            _HITS.inc()
            return cached
        read_at = self.version(board_id)
        under_way = self._reads.get((board_id, key))
        if under_way is not None and under_way[0] == read_at:
            _SHARED.inc()
            # shield: a joiner that is cancelled must not cancel the read for the others.
            return await asyncio.shield(under_way[1])
        _MISSES.inc()
        outcome: asyncio.Future[Page] = asyncio.get_running_loop().create_future()
        outcome.add_done_callback(_retrieved)
        self._reads[(board_id, key)] = (read_at, outcome)
        try:
            page = await read()
        except asyncio.CancelledError:
            outcome.cancel()
            raise
        except BaseException as exc:
            outcome.set_exception(exc)
            raise
        else:
            outcome.set_result(page)
            self.put(board_id, key, page, read_at)
            return page
        finally:
            if self._reads.get((board_id, key), (None, None))[1] is outcome:
                del self._reads[(board_id, key)]

    def get(self, board_id: str, key: PageKey) -> Page | None:
        cached = self._boards.get(board_id, {}).get(key)
        if cached is None or cached[0] <= self._clock():
            return None
        return cached[1]

    def version(self, board_id: str) -> Version:
        """Take before reading a page; ``put`` refuses the page if anything changed since."""
        return (self._clears, self._changes.get(board_id, 0))

    def put(self, board_id: str, key: PageKey, page: Page, read_at: Version) -> None:
        if not self.enabled or read_at != self.version(board_id):
            return
        if self._size >= self._max_pages:
            self.clear()  # simpler than LRU, and a page is rebuilt in a millisecond
        pages = self._boards.setdefault(board_id, {})
        self._size += key not in pages
        pages[key] = (self._clock() + self._ttl, page)

    def changed(self, board_id: str, period: date, rank: int, previous_rank: int | None) -> None:
        """A change this worker applied: drop the pages it touches (all if a new entry).

        Pages numbered in competition or dense ranks go from the change's upper rank down:
        a change may renumber entries below its positions (a tie broken, a new distinct
        score). A country's pages all go (its positions are not the board's).
        """
        self._bump(board_id)
        pages = self._boards.get(board_id)
        if not pages:
            return
        low, high = (rank, rank) if previous_rank is None else sorted((rank, previous_rank))
        for key in [k for k in pages if k[0] == period]:
            _, offset, limit, style, country, _ = key  # a span of the same start: dropped alike
            first, last = offset + 1, offset + limit
            if style != "ordinal":
                high = max(high, last)
            # A country's positions are not the board's: any change may touch its pages.
            if country is not None or previous_rank is None or (first <= high and low <= last):
                del pages[key]
                self._size -= 1

    def drop_board(self, board_id: str) -> None:
        self._bump(board_id)
        self._size -= len(self._boards.pop(board_id, {}))

    def clear(self) -> None:
        self._clears += 1
        self._boards.clear()
        self._size = 0

    def _bump(self, board_id: str) -> None:
        if self.enabled:
            self._changes[board_id] = self._changes.get(board_id, 0) + 1


def _retrieved(outcome: asyncio.Future[Page]) -> None:
    """Mark a shared read's error as seen: its own reader raises it, joiners may be none."""
    if not outcome.cancelled():
        outcome.exception()
