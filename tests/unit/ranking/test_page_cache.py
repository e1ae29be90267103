"""The worker's short-lived cache of top pages: what it keeps, what drops it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

import pytest

from leaderboard.ranking.models import Page
from leaderboard.ranking.page_cache import TopPageCache

TODAY = date(2026, 11, 25)


def page(name: str) -> Page:
    return Page(leaderboard=name, period=None, total=0, entries=[])


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_page_lives_for_the_ttl() -> None:
    clock = Clock()
    cache = TopPageCache(0.5, clock=clock)
    cache.put("b", (TODAY, 0, 10, "ordinal", None), page("p"), cache.version("b"))
    assert cache.get("b", (TODAY, 0, 10, "ordinal", None)) == page("p")
    assert cache.get("b", (TODAY, 0, 20, "ordinal", None)) is None
    assert cache.get("other", (TODAY, 0, 10, "ordinal", None)) is None
    clock.now += 0.49
    assert cache.get("b", (TODAY, 0, 10, "ordinal", None)) is not None
    clock.now += 0.02
    assert cache.get("b", (TODAY, 0, 10, "ordinal", None)) is None


def test_a_page_read_before_a_change_is_not_cached() -> None:
    """A page whose read began before a change (or drop, or clear) may miss it."""
    cache = TopPageCache(60)
    spoilers: list[Callable[[], None]] = [
        lambda: cache.changed("b", TODAY, 900, 901),  # touches no page, still counts
        lambda: cache.drop_board("b"),
        cache.clear,
    ]
    for spoil in spoilers:
        read_at = cache.version("b")
        spoil()
        cache.put("b", (TODAY, 0, 10, "ordinal", None), page("stale"), read_at)
        assert cache.get("b", (TODAY, 0, 10, "ordinal", None)) is None
    read_at = cache.version("b")
    cache.changed("other", TODAY, 1, None)  # another board's change does not matter
    cache.put("b", (TODAY, 0, 10, "ordinal", None), page("fresh"), read_at)
    assert cache.get("b", (TODAY, 0, 10, "ordinal", None)) == page("fresh")


def test_off_when_the_ttl_is_zero() -> None:
    cache = TopPageCache(0)
    cache.put("b", (TODAY, 0, 10, "ordinal", None), page("p"), cache.version("b"))
    assert cache.get("b", (TODAY, 0, 10, "ordinal", None)) is None


@pytest.mark.parametrize(
    ("rank", "previous_rank", "dropped"),
    [
        pytest.param(500, 600, set(), id="far-below-every-page"),
        pytest.param(5, 8, {(0, 10), (0, 100)}, id="inside-the-first-page"),
        pytest.param(15, 150, {(10, 10), (0, 100)}, id="from-below-into-the-second-page"),
        pytest.param(150, 5, {(0, 10), (10, 10), (0, 100)}, id="falling-from-the-top"),
        pytest.param(11, 11, {(10, 10), (0, 100)}, id="same-rank-new-score"),
        pytest.param(900, None, {(0, 10), (10, 10), (0, 100)}, id="new-entry-changes-total"),
    ],
)
def test_a_change_drops_the_pages_it_touches(
    rank: int, previous_rank: int | None, dropped: set[tuple[int, int]]
) -> None:
    cache = TopPageCache(60)
    pages = [(0, 10), (10, 10), (0, 100)]
    for offset, limit in pages:
        cache.put(
            "b",
            (TODAY, offset, limit, "ordinal", None),
            page(f"{offset}-{limit}"),
            cache.version("b"),
        )
    cache.put(
        "b", (date(2026, 11, 24), 0, 10, "ordinal", None), page("yesterday"), cache.version("b")
    )
    cache.put("other", (TODAY, 0, 10, "ordinal", None), page("other"), cache.version("other"))
    cache.changed("b", TODAY, rank, previous_rank)
    kept = {(o, n) for o, n in pages if cache.get("b", (TODAY, o, n, "ordinal", None)) is not None}
    assert kept == set(pages) - dropped
    assert (
        cache.get("b", (date(2026, 11, 24), 0, 10, "ordinal", None)) is not None
    )  # another period
    assert cache.get("other", (TODAY, 0, 10, "ordinal", None)) is not None  # another board


def test_the_cache_is_bounded() -> None:
    cache = TopPageCache(60, max_pages=3)
    for i in range(3):
        cache.put("b", (TODAY, i, 10, "ordinal", None), page(str(i)), cache.version("b"))
    assert cache.get("b", (TODAY, 0, 10, "ordinal", None)) is not None
    # over the bound: starts afresh
    cache.put("b", (TODAY, 3, 10, "ordinal", None), page("3"), cache.version("b"))
    assert cache.get("b", (TODAY, 0, 10, "ordinal", None)) is None
    assert cache.get("b", (TODAY, 3, 10, "ordinal", None)) is not None


class Reads:
    """A page read that waits until the test lets it finish; counts how many began."""

    def __init__(self) -> None:
        self.began = 0
        self.gate = asyncio.Event()
        self.error: Exception | None = None

    async def __call__(self) -> Page:
        self.began += 1
        number = self.began
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return page(f"read {number}")


async def test_readers_that_miss_together_share_one_read() -> None:
    cache, reads = TopPageCache(60), Reads()
    readers = [
        asyncio.create_task(cache.page("b", (TODAY, 0, 10, "ordinal", None), reads))
        for _ in range(5)
    ]
    await asyncio.sleep(0)  # every reader has asked
    reads.gate.set()
    assert [await r for r in readers] == [page("read 1")] * 5
    assert reads.began == 1
    assert await cache.page("b", (TODAY, 0, 10, "ordinal", None), reads) == page("read 1")  # kept


async def test_a_reader_after_a_change_does_not_join_an_older_read() -> None:
    """Joining a read that began before this worker's own change could hide the change."""
    cache, reads = TopPageCache(60), Reads()
    first = asyncio.create_task(cache.page("b", (TODAY, 0, 10, "ordinal", None), reads))
    await asyncio.sleep(0)
    cache.changed("b", TODAY, 3, 7)
    second = asyncio.create_task(cache.page("b", (TODAY, 0, 10, "ordinal", None), reads))
    await asyncio.sleep(0)
    reads.gate.set()
    assert (await first, await second) == (page("read 1"), page("read 2"))
    # The first read began before the change: only the second is kept.
    assert cache.get("b", (TODAY, 0, 10, "ordinal", None)) == page("read 2")


async def test_a_failed_read_fails_its_joiners_and_is_not_kept() -> None:
    cache, reads = TopPageCache(60), Reads()
    reads.error = RuntimeError("redis is down")
    readers = [
        asyncio.create_task(cache.page("b", (TODAY, 0, 10, "ordinal", None), reads))
        for _ in range(3)
    ]
    await asyncio.sleep(0)
    reads.gate.set()
    outcomes = await asyncio.gather(*readers, return_exceptions=True)
    assert [str(o) for o in outcomes] == ["redis is down"] * 3
    assert reads.began == 1
    reads.error = None
    assert await cache.page("b", (TODAY, 0, 10, "ordinal", None), reads) == page("read 2")


async def test_a_joiner_that_gives_up_leaves_the_read_to_the_others() -> None:
    cache, reads = TopPageCache(60), Reads()
    first = asyncio.create_task(cache.page("b", (TODAY, 0, 10, "ordinal", None), reads))
    joiner = asyncio.create_task(cache.page("b", (TODAY, 0, 10, "ordinal", None), reads))
    await asyncio.sleep(0)
    joiner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await joiner
    reads.gate.set()
    assert await first == page("read 1")


async def test_with_the_cache_off_every_reader_reads() -> None:
    cache, reads = TopPageCache(0), Reads()
    reads.gate.set()
    await asyncio.gather(
        *(cache.page("b", (TODAY, 0, 10, "ordinal", None), reads) for _ in range(3))
    )
    assert reads.began == 3


def test_a_change_drops_the_tied_pages_below_it() -> None:
    """Competition and dense numbers below a change may move (a tie broken, a new score)."""
    cache = TopPageCache(60)
    for style in ("ordinal", "dense", "competition"):
        for offset in (0, 10, 20):
            cache.put("b", (TODAY, offset, 10, style, None), page(style), cache.version("b"))
    cache.changed("b", TODAY, 5, 8)  # inside the first page
    kept = {
        (offset, style)
        for style in ("ordinal", "dense", "competition")
        for offset in (0, 10, 20)
        if cache.get("b", (TODAY, offset, 10, style, None)) is not None
    }
    assert kept == {(10, "ordinal"), (20, "ordinal")}


def test_a_change_drops_every_page_of_a_country_below_it() -> None:
    """A country's positions are not the board's: a change anywhere drops its pages."""
    cache = TopPageCache(60)
    for offset in (0, 10):
        cache.put("b", (TODAY, offset, 10, "ordinal", "DE"), page("de"), cache.version("b"))
    cache.changed("b", TODAY, 500, 600)  # far below the board's first pages
    assert cache.get("b", (TODAY, 0, 10, "ordinal", "DE")) is None
    assert cache.get("b", (TODAY, 10, 10, "ordinal", "DE")) is None
