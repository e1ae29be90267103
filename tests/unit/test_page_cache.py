"""The worker's short-lived cache of top pages: what it keeps, what drops it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from leaderboard.boards.models import Page
from leaderboard.boards.page_cache import TopPageCache

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
    cache.put("b", (TODAY, 0, 10), page("p"), cache.version("b"))
    assert cache.get("b", (TODAY, 0, 10)) == page("p")
    assert cache.get("b", (TODAY, 0, 20)) is None
    assert cache.get("other", (TODAY, 0, 10)) is None
    clock.now += 0.49
    assert cache.get("b", (TODAY, 0, 10)) is not None
    clock.now += 0.02
    assert cache.get("b", (TODAY, 0, 10)) is None


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
        cache.put("b", (TODAY, 0, 10), page("stale"), read_at)
        assert cache.get("b", (TODAY, 0, 10)) is None
    read_at = cache.version("b")
    cache.changed("other", TODAY, 1, None)  # another board's change does not matter
    cache.put("b", (TODAY, 0, 10), page("fresh"), read_at)
    assert cache.get("b", (TODAY, 0, 10)) == page("fresh")


def test_off_when_the_ttl_is_zero() -> None:
    cache = TopPageCache(0)
    cache.put("b", (TODAY, 0, 10), page("p"), cache.version("b"))
    assert cache.get("b", (TODAY, 0, 10)) is None


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
        cache.put("b", (TODAY, offset, limit), page(f"{offset}-{limit}"), cache.version("b"))
    cache.put("b", (date(2026, 11, 24), 0, 10), page("yesterday"), cache.version("b"))
    cache.put("other", (TODAY, 0, 10), page("other"), cache.version("other"))
    cache.changed("b", TODAY, rank, previous_rank)
    kept = {(o, n) for o, n in pages if cache.get("b", (TODAY, o, n)) is not None}
    assert kept == set(pages) - dropped
    assert cache.get("b", (date(2026, 11, 24), 0, 10)) is not None  # another period
    assert cache.get("other", (TODAY, 0, 10)) is not None  # another board


def test_the_cache_is_bounded() -> None:
    cache = TopPageCache(60, max_pages=3)
    for i in range(3):
        cache.put("b", (TODAY, i, 10), page(str(i)), cache.version("b"))
    assert cache.get("b", (TODAY, 0, 10)) is not None
    cache.put("b", (TODAY, 3, 10), page("3"), cache.version("b"))  # over the bound: starts afresh
    assert cache.get("b", (TODAY, 0, 10)) is None
    assert cache.get("b", (TODAY, 3, 10)) is not None
