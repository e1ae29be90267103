"""The live page pages through the board beyond the top 10, and each page stays live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

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


def shown(page: Page) -> list[tuple[int, str, str]]:
    """The table's rows: (rank, name, score as shown)."""
    rows = page.locator("#top tr").all()
    return [
        (
            int(row.locator("td.rank").inner_text()),
            row.locator("td.name").inner_text(),
            row.locator("td.score").inner_text(),
        )
        for row in rows
    ]


def test_previous_next_and_first_page_through_the_board(
    server: str, seed: Seed, page: Page
) -> None:
    board = seed.board()
    players = seed.players(board, {name: 10_000 - 100 * i for i, name in enumerate(NAMES)})
    opened = open_board(page, server, board)
    pager = page.locator("#pager")
    expect(pager).to_be_visible()
    expect(page.locator("#range")).to_have_text("Ranks 1-10 of 45")
    expect(page.locator("#heading")).to_have_text("Top 10")
    expect(page.locator("#first")).to_be_disabled()
    expect(page.locator("#prev")).to_be_disabled()
    expect(page.locator("#next")).to_be_enabled()

    page.locator("#next").click()
    expect(page.locator("#range")).to_have_text("Ranks 11-20 of 45")
    expect(page.locator("#heading")).to_have_text("Ranks 11\u201320")
    api = seed.get(f"/v1/leaderboards/{board}/top", limit=10, offset=10)["entries"]
    assert shown(page) == [(e["rank"], e["display_name"], f"{e['score']:,}") for e in api]
    assert shown(page)[0] == (11, "John", "9,000")
    assert any("limit=10&offset=10" in url for url in opened.reads("/top?"))
    expect(page.locator("#prev")).to_be_enabled()

    for expected in ("Ranks 21-30 of 45", "Ranks 31-40 of 45", "Ranks 41-45 of 45"):
        page.locator("#next").click()
        expect(page.locator("#range")).to_have_text(expected)
    expect(page.locator("#top tr")).to_have_count(5)
    expect(page.locator("#next")).to_be_disabled()
    expect(page.locator("#top tr").last).to_contain_text("Samira")
    page.locator("#prev").click()
    expect(page.locator("#range")).to_have_text("Ranks 31-40 of 45")
    expect(page.locator("#top tr").first).to_contain_text("Evelyn")

    # A page other than the first is live too: a player climbs into ranks 31-40.
    seed.score(board, players["Samira"], 6_550)  # from 45th to 36th
    samira = page.locator("#top tr", has_text="Samira")
    expect(samira.locator("td.rank")).to_have_text("36", timeout=10_000)
    expect(samira.locator(".mark.up")).to_have_text("\u25b29")
    expect(page.locator("#range")).to_have_text("Ranks 31-40 of 45")
    # And a newcomer below counts in the total without moving this page.
    seed.score(board, seed.player("Zed"), 1)
    expect(page.locator("#range")).to_have_text("Ranks 31-40 of 46", timeout=10_000)

    page.locator("#first").click()
    expect(page.locator("#range")).to_have_text("Ranks 1-10 of 46")
    assert shown(page)[0] == (1, "Ada", "10,000")
    opened.check()


def test_the_last_page_closes_up_when_its_entries_go(server: str, seed: Seed, page: Page) -> None:
    board = seed.board()
    names = NAMES[:11]
    players = seed.players(board, {name: 1_000 - i for i, name in enumerate(names)})
    opened = open_board(page, server, board)
    page.locator("#next").click()
    expect(page.locator("#range")).to_have_text("Ranks 11-11 of 11")
    # The only entry of page 2 is removed: the page shows what is there now, page 1.
    removed = seed.http.delete(f"/v1/leaderboards/{board}/players/{players[names[-1]]}")
    assert removed.status_code == 204
    expect(page.locator("#range")).to_have_text("Ranks 1-10 of 10", timeout=10_000)
    expect(page.locator("#pager")).to_be_hidden()
    opened.check()
