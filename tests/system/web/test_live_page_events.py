"""The live page shows who moved as events arrive (▲/▼/new), and drops removed entries."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

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
UP, DOWN = "\u25b2", "\u25bc"


def mark_of(page: Page, name: str) -> Locator:
    return page.locator("#top tr", has=page.locator("td.name", has_text=name)).locator(".mark")


def test_arrows_show_who_moved_and_by_how_much_then_fade(
    server: str, seed: Seed, page: Page
) -> None:
    board = seed.board()
    names = NAMES[:10]  # Ada 1,000 first ... Edsger 100 tenth
    players = seed.players(board, {name: 1_000 - 100 * i for i, name in enumerate(names)})
    opened = open_board(page, server, board)
    expect(page.locator("#top tr")).to_have_count(10)
    expect(page.locator("#top .mark")).to_have_count(0)

    # A better score that keeps the rank moves nobody: no arrow.
    seed.score(board, players["Ada"], 1_500)
    expect(page.locator("#top tr").first).to_contain_text("1,500", timeout=10_000)
    expect(page.locator("#top .mark")).to_have_count(0)

    # Edsger climbs from 10th to 6th: up 4; the four he passed (overtaken) each down 1.
    seed.score(board, players["Edsger"], 550)
    expect(mark_of(page, "Edsger")).to_have_text(f"{UP}4", timeout=10_000)
    expect(mark_of(page, "Edsger")).to_have_attribute("aria-label", "up 4 places")
    expect(mark_of(page, "Edsger")).to_have_class("mark up")
    for name in ("Alan", "Margaret", "Dennis", "Frances"):
        expect(mark_of(page, name)).to_have_text(f"{DOWN}1")
        expect(mark_of(page, name)).to_have_class("mark down")
    for name in ("Ada", "Grace", "Linus", "Ken", "Barbara"):
        expect(mark_of(page, name)).to_have_count(0)

    # A newcomer lands first: "new"; everyone else goes down one more, and the marks
    # add up over the moves seen (Edsger: 10th, 6th, now 7th).
    seed.score(board, seed.player("Hopper"), 2_000)
    expect(mark_of(page, "Hopper")).to_have_text("new", timeout=10_000)
    expect(mark_of(page, "Hopper")).to_have_class("mark new")
    expect(mark_of(page, "Ada")).to_have_text(f"{DOWN}1")
    expect(mark_of(page, "Edsger")).to_have_text(f"{UP}3")
    expect(mark_of(page, "Alan")).to_have_text(f"{DOWN}2")
    expect(page.locator("#top tr").first).to_contain_text("Hopper")
    expect(page.locator("#top tr")).to_have_count(10)  # Frances went to page 2

    # For a few seconds only.
    expect(page.locator("#top .mark")).to_have_count(0, timeout=10_000)
    expect(page.locator("#top tr")).to_have_count(10)
    opened.check()


def test_a_removed_entry_leaves_the_table(server: str, seed: Seed, page: Page) -> None:
    board = seed.board()
    names = NAMES[:5]
    players = seed.players(board, {name: 500 - 100 * i for i, name in enumerate(names)})
    opened = open_board(page, server, board)
    rows = page.locator("#top tr")
    expect(rows).to_have_count(5)

    # The admin takes Linus (3rd) off: his row goes and the ranks below close up.
    removed = seed.http.delete(f"/v1/leaderboards/{board}/players/{players['Linus']}")
    assert removed.status_code == 204
    expect(rows).to_have_count(4, timeout=10_000)
    expect(page.locator("#top")).not_to_contain_text("Linus")
    expect(rows.nth(2).locator("td.rank")).to_have_text("3")
    expect(rows.nth(2)).to_contain_text("Ken")
    expect(page.locator("#total")).to_have_text("\u00b7 4 players")

    # A ban removes a player's entries too (an entry_removed event each).
    banned = seed.http.post(f"/v1/players/{players['Ada']}/ban", json={"reason": "cheating"})
    assert banned.status_code == 204
    expect(rows).to_have_count(3, timeout=10_000)
    expect(rows.first).to_contain_text("Grace")
    expect(rows.first.locator("td.rank")).to_have_text("1")

    # Someone chosen is told when their entry goes.
    page.locator("#player").fill(players["Barbara"])
    expect(page.locator("#entry-rank")).to_have_text("3 of 3")
    seed.http.delete(f"/v1/leaderboards/{board}/players/{players['Barbara']}")
    expect(page.locator("#search-message")).to_have_text(
        "That player has no entry on this board.", timeout=10_000
    )
    expect(page.locator("#entry")).to_be_hidden()
    expect(rows).to_have_count(2)
    opened.check()


def test_an_unbanned_players_entry_comes_back_without_a_reload(
    server: str, seed: Seed, page: Page
) -> None:
    board = seed.board()
    names = NAMES[:4]
    players = seed.players(board, {name: 400 - 100 * i for i, name in enumerate(names)})
    opened = open_board(page, server, board)
    rows = page.locator("#top tr")
    expect(rows).to_have_count(4)
    assert seed.http.post(f"/v1/players/{players['Grace']}/ban").status_code == 204
    expect(rows).to_have_count(3, timeout=10_000)
    # The re-read the ban's event asked for is done: the page reads nothing more unasked.
    expect(page.locator("#total")).to_have_text("\u00b7 3 players", timeout=10_000)

    # The unban publishes entry_restored: the row is back where it ranked, marked "back".
    assert seed.http.delete(f"/v1/players/{players['Grace']}/ban").status_code == 204
    expect(rows).to_have_count(4, timeout=10_000)
    expect(rows.nth(1)).to_contain_text("Grace")
    expect(rows.nth(1).locator("td.rank")).to_have_text("2")
    expect(mark_of(page, "Grace")).to_have_text("back")
    expect(mark_of(page, "Grace")).to_have_attribute("aria-label", "entry restored")
    expect(page.locator("#total")).to_have_text("\u00b7 4 players")
    opened.check()
