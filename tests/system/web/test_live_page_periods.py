"""The live page's period switcher: today, yesterday or a day's period of a daily board.

Scores can be submitted only into the current period, so yesterday's are written into
Postgres directly (with the board's creation moved back three days, as if it had been
running): the service rebuilds a past period's index from there when it is first read.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from playwright.sync_api import Page, expect

from tests.live_page_helpers import (
    Seed,
    open_board,
    seed_fixture,
)
from tests.procs import server_fixture

pytestmark = pytest.mark.slow

# The service and the browser both live on 1 March 2024, the day after a leap day.
TODAY = date(2024, 3, 1)
server = server_fixture("live-page", day=TODAY)
seed = seed_fixture()

TODAY_SCORES = {"Ada": 900, "Grace": 800, "Linus": 700, "Sam": 600, "Ken": 500}
YESTERDAY_SCORES = {"Ken": 990, "Oldtimer": 950, "Samwise": 940, "Ada": 100}


async def backdate(database_url: str, board: str, day: date, scores: dict[str, int]) -> None:
    """The board existed three days ago, and ``scores`` (by player id) were reached on ``day``."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE leaderboards SET created_at = created_at - interval '3 days' WHERE id = $1",
            board,
        )
        reached = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
        await conn.executemany(
            """INSERT INTO scores (leaderboard_id, period_start, player_id, score, reached_seq,
                                   reached_at)
               VALUES ($1, $2, $3, $4, nextval('score_reached_seq'), $5)""",
            [(board, day, uuid.UUID(player), score, reached) for player, score in scores.items()],
        )
    finally:
        await conn.close()


def test_the_period_switcher_rereads_table_search_and_histogram(
    server: str, seed: Seed, page: Page, database_url: str
) -> None:
    today, yesterday = TODAY, date(2024, 2, 29)
    board = seed.board("Daily Sprint", reset="daily")
    names = sorted({*TODAY_SCORES, *YESTERDAY_SCORES})
    ids = {name: seed.player(name) for name in names}
    scores = {ids[name]: score for name, score in YESTERDAY_SCORES.items()}
    # In a thread of its own: Playwright's sync API runs an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, backdate(database_url, board, yesterday, scores)).result()
    for name, score in TODAY_SCORES.items():
        seed.score(board, ids[name], score)

    opened = open_board(page, server, board, day=TODAY)
    rows = page.locator("#top tr")
    expect(page.locator("#periods")).to_be_visible()
    expect(page.locator("#period-current")).to_have_text("Today")
    expect(page.locator("#period-previous")).to_have_text("Yesterday")
    expect(page.locator("#period-current")).to_have_attribute("aria-pressed", "true")
    expect(rows).to_have_count(5)
    expect(page.locator("#period")).to_have_text(f"Period from {today} (UTC)")
    expect(page.locator("#countdown")).to_contain_text("Resets in")
    page.locator("#player").fill("sam")
    expect(page.locator("#matches button")).to_have_count(1)  # Sam; Samwise was yesterday
    expect(page.locator("#histogram-total")).to_have_text("\u00b7 5 scores")

    # Yesterday: its table, its search, its histogram; not live.
    page.locator("#period-previous").click()
    expect(page.locator("#period-previous")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#period-current")).to_have_attribute("aria-pressed", "false")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Ken")
    expect(rows.first).to_contain_text("990")
    expect(rows.last).to_contain_text("Ada")
    expect(page.locator("#period")).to_have_text(f"Period from {yesterday} (UTC)")
    expect(page.locator("#countdown")).to_have_text(f"Ended {today} 00:00 UTC")
    expect(page.locator("#live")).to_have_text("past period: not live")
    expect(page.locator("#dot")).to_have_class("dot paused")
    expect(page.locator("#matches button")).to_have_count(1)
    expect(page.locator("#matches button")).to_contain_text("Samwise")
    expect(page.locator("#matches button .rank")).to_have_text("#3")
    expect(page.locator("#histogram-total")).to_have_text("\u00b7 4 scores")
    expect(page.locator("#histogram-high")).not_to_have_text("")
    for read in ("/top?", "/players?name=", "/histogram?"):
        assert any("period=previous" in url for url in opened.reads(read)), read

    # A score now changes today, not the yesterday shown.
    seed.score(board, ids["Linus"], 5_000)
    page.wait_for_timeout(1_000)  # time for the event, were it wrongly applied
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Ken")
    expect(page.locator("#top .mark")).to_have_count(0)

    # A player chosen in a past period: their entry there.
    page.locator("#matches button").click()
    expect(page.locator("#entry-name")).to_have_text("Samwise")
    expect(page.locator("#entry-rank")).to_have_text("3 of 4")
    expect(page.locator("#top tr.me")).to_contain_text("Samwise")

    # A day: its period. Two days ago nothing was recorded.
    page.locator("#period-date").fill(str(today - timedelta(days=2)))
    expect(page.locator("#top-empty")).to_have_text("No scores in this period.")
    expect(page.locator("#top-empty")).to_be_visible()
    expect(page.locator("#histogram-empty")).to_have_text("No scores in this period.")
    expect(page.locator("#histogram-empty")).to_be_visible()
    expect(page.locator("#period-previous")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#search-message")).to_have_text("That player has no entry in this period.")
    page.locator("#period-date").fill(str(yesterday))
    expect(rows).to_have_count(4)
    expect(page.locator("#entry-rank")).to_have_text("3 of 4")
    assert any(f"period={yesterday}" in url for url in opened.reads("/top?"))

    # Back to today: live again, with what happened meanwhile.
    page.locator("#period-current").click()
    expect(page.locator("#live")).to_have_text("live")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("Linus")
    expect(rows.first).to_contain_text("5,000")
    expect(page.locator("#search-message")).to_have_text("That player has no entry on this board.")
    seed.score(board, ids["Ken"], 6_000)
    expect(rows.first).to_contain_text("Ken", timeout=10_000)
    expect(rows.first.locator(".mark.up")).to_have_text("\u25b24")
    opened.check()


def test_a_board_that_never_resets_has_no_switcher(server: str, seed: Seed, page: Page) -> None:
    board = seed.board("All Time", reset="never")
    seed.players(board, {"Ada": 1})
    opened = open_board(page, server, board, day=TODAY)
    expect(page.locator("#top tr")).to_have_count(1)
    expect(page.locator("#periods")).to_be_hidden()
    expect(page.locator("#period")).to_have_text("All time")
    expect(page.locator("#countdown")).to_have_text("Never resets")
    assert all("period=" not in url for url in opened.requests)
    opened.check()
