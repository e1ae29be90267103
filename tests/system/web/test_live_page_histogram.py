"""The live page draws the board's histogram itself (SVG), and follows events throttled."""

from __future__ import annotations

from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import wait_until
from tests.live_page_helpers import (
    NAMES,
    Seed,
    open_board,
    seed_fixture,
)
from tests.procs import server_fixture

pytestmark = pytest.mark.slow

server = server_fixture("live-page")
seed = seed_fixture()
BARS = "#histogram svg rect.bar"


def drawn(page: Page) -> list[dict[str, Any]]:
    """Each bar: its range, count and drawn height (in the SVG's units)."""
    result: list[dict[str, Any]] = page.eval_on_selector_all(
        BARS,
        """bars => bars.map(bar => ({
            from: Number(bar.dataset.from), to: Number(bar.dataset.to),
            count: Number(bar.dataset.count), height: Number(bar.getAttribute("height")),
            title: bar.querySelector("title").textContent}))""",
    )
    return result


def now(page: Page) -> float:
    return float(page.evaluate("performance.now()"))


# Notes when the page calls fetch() for the histogram, on its own clock (a resource
# timing entry would only appear once the answer is in, maybe after it is drawn).
COUNT_READS = """
    window.histogramReads = [];
    const fetchAsBefore = window.fetch;
    window.fetch = (url, ...rest) => {
        if (String(url).includes("/histogram")) window.histogramReads.push(performance.now());
        return fetchAsBefore(url, ...rest);
    };
"""


def histogram_reads(page: Page) -> list[float]:
    """When the page asked for the histogram (ms, performance.now())."""
    times: list[float] = page.evaluate("window.histogramReads")
    return times


def assert_drawn_as(page: Page, histogram: dict[str, Any]) -> None:
    bars = drawn(page)
    buckets = histogram["buckets"]
    assert [(b["from"], b["to"], b["count"]) for b in bars] == [
        (b["from"], b["to"], b["count"]) for b in buckets
    ]
    tallest = max(b["count"] for b in buckets)
    for bar in bars:
        # Heights in proportion to the counts; an empty range has no bar.
        assert bar["height"] == pytest.approx(bar["count"] / tallest * 96, abs=1.5), bar
        assert (bar["height"] == 0) == (bar["count"] == 0), bar
    assert sum(bar["count"] for bar in bars) == histogram["total"]


def test_the_histogram_is_the_boards_shape_and_follows_events_every_2_s(
    server: str, seed: Seed, page: Page
) -> None:
    board = seed.board()
    # 30 scores, most of them low: a skewed shape over 0-1,999.
    scores = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140, 160, 200, 240, 300]
    scores += [350, 400, 480, 560, 650, 760, 880, 1000, 1150, 1300, 1500, 1750, 1999]
    seed.players(board, dict(zip(NAMES, scores, strict=False)))
    page.add_init_script(COUNT_READS)
    opened = open_board(page, server, board)
    histogram = seed.get(f"/v1/leaderboards/{board}/histogram", buckets=20)
    assert len(histogram["buckets"]) == 20
    expect(page.locator(BARS)).to_have_count(20)
    assert_drawn_as(page, histogram)
    assert any("buckets=20" in url for url in opened.reads("/histogram"))
    expect(page.locator("#histogram-total")).to_have_text("\u00b7 30 scores")
    expect(page.locator("#histogram-low")).to_have_text("0")
    expect(page.locator("#histogram-high")).to_have_text(f"{histogram['buckets'][-1]['to']:,}")
    assert drawn(page)[0]["title"] == "0\u201399: 10 players"
    expect(page.locator("#histogram svg")).to_have_attribute(
        "aria-label",
        f"30 scores from 0 to {histogram['buckets'][-1]['to']:,}, at most 10 in one range",
    )
    # No library and no image: drawn by the page's own script, with its own elements.
    static = {urlsplit(url).path for url in opened.reads("/static/")}
    assert static <= {
        "/static/board.css",
        "/static/board.js",
        "/static/review.js",
        "/static/favicon.svg",
    }, static

    # A burst of submissions: one event each, but the histogram is read at most every 2 s.
    # Quiet first, so that the burst starts a round of its own. (Times are the page's
    # own: Playwright hands its events to Python late, only between calls.)
    wait_until(lambda: now(page) - histogram_reads(page)[-1] > 2_100, 10, "2 s without reads")
    started = now(page)
    for i in range(15):
        seed.score(board, seed.player(f"Burst {i}"), 1_900 + i)
        # Not time.sleep: the page's requests pass through offline()'s route handler,
        # which runs only while Python is inside a Playwright call.
        page.wait_for_timeout(100)
    burst = now(page) - started
    expect(page.locator("#histogram-total")).to_have_text("\u00b7 45 scores", timeout=10_000)
    settled = seed.get(f"/v1/leaderboards/{board}/histogram", buckets=20)
    expect(page.locator(BARS).last).to_have_attribute(
        "data-count", str(settled["buckets"][-1]["count"]), timeout=5_000
    )
    assert_drawn_as(page, settled)
    reads = [t - started for t in histogram_reads(page) if t > started]
    gaps = [b - a for a, b in pairwise(reads)]
    assert all(gap >= 1_950 for gap in gaps), (reads, burst)
    assert reads[0] < 1_000, (reads, burst)  # the first event is drawn at once
    assert 2 <= len(reads) <= burst / 2_000 + 2, (reads, burst)
    opened.check()


def test_an_empty_board_says_so_instead_of_a_chart(server: str, seed: Seed, page: Page) -> None:
    board = seed.board()
    opened = open_board(page, server, board)
    expect(page.locator("#histogram-empty")).to_be_visible()
    expect(page.locator("#histogram-empty")).to_have_text("No scores yet.")
    expect(page.locator(BARS)).to_have_count(0)
    expect(page.locator("#histogram-axis")).to_be_hidden()
    # The first score draws the first bar.
    seed.score(board, seed.player("First"), 42)
    expect(page.locator(BARS)).to_have_count(1, timeout=10_000)
    expect(page.locator("#histogram-empty")).to_be_hidden()
    expect(page.locator("#histogram-low")).to_have_text("42")
    opened.check()
