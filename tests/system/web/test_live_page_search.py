"""The live page's "Find a player": a name search as one types, or a pasted player id."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.live_page_helpers import (
    Seed,
    open_board,
    seed_fixture,
)
from tests.procs import server_fixture

pytestmark = pytest.mark.slow

# Twelve players whose names start with "sam" in some case; others around them.
SAMS = "Sam Samantha SAMIR samuel Sammy Samson Samira Samuele Sampson Samara Samia Samwise"
OTHERS = "Ada Adam Grace Linus Ken Barbara Alan Margaret Dennis Frances Edsger Radia"


server = server_fixture("live-page")
seed = seed_fixture()


def seeded(seed: Seed) -> tuple[str, dict[str, str]]:
    """24 players, best first in the order of OTHERS then SAMS, 10 points apart."""
    board = seed.board()
    names = (OTHERS + " " + SAMS).split()
    return board, seed.players(board, {name: 1_000 - 10 * i for i, name in enumerate(names)})


def test_typing_part_of_a_name_lists_matches_with_rank_and_score(
    server: str, seed: Seed, page: Page
) -> None:
    board, _ = seeded(seed)
    opened = open_board(page, server, board)
    search = page.locator("#player")
    matches = page.locator("#matches button")

    # Typed a key at a time, in another case: one search once the typing pauses.
    search.press_sequentially("sAm", delay=60)
    expect(matches).to_have_count(10)  # twelve match; the page shows at most ten
    named = opened.reads("/players?name=")
    assert len(named) == 1, named
    assert "name=sAm" in named[0]
    assert "limit=10" in named[0]
    api = seed.get(f"/v1/leaderboards/{board}/players", name="sam", limit=10)["entries"]
    for button, entry in zip(matches.all(), api, strict=True):
        expect(button.locator(".rank")).to_have_text(f"#{entry['rank']}")
        expect(button.locator(".name")).to_have_text(entry["display_name"])
        expect(button.locator(".score")).to_have_text(f"{entry['score']:,}")
    expect(matches.first).to_contain_text("Sam")
    expect(matches.first).to_contain_text("#13")

    # A longer prefix narrows it down; the prefix is a prefix, not a substring.
    search.press_sequentially("u", delay=60)
    expect(matches).to_have_count(2)  # samuel, Samuele
    expect(matches.nth(0)).to_contain_text("samuel")
    expect(matches.nth(1)).to_contain_text("Samuele")
    search.fill("ada")
    expect(matches).to_have_count(2)  # Ada, Adam: not Radia
    search.fill("zed")
    expect(matches).to_have_count(0)
    expect(page.locator("#search-message")).to_have_text(
        "No player has a name starting with \u201czed\u201d."
    )
    search.fill("")
    expect(page.locator("#search-message")).to_be_hidden()
    opened.check()


def test_choosing_a_match_shows_the_entry_and_jumps_to_its_page(
    server: str, seed: Seed, page: Page
) -> None:
    board, players = seeded(seed)
    opened = open_board(page, server, board)
    expect(page.locator("#range")).to_have_text("Ranks 1-10 of 24")

    page.locator("#player").press_sequentially("samw", delay=40)
    expect(page.locator("#matches button")).to_have_count(1)
    page.locator("#player").press("Enter")  # the first match
    entry = seed.get(f"/v1/leaderboards/{board}/players/{players['Samwise']}")
    assert entry["rank"] == 24
    expect(page.locator("#entry-name")).to_have_text("Samwise")
    expect(page.locator("#entry-rank")).to_have_text("24 of 24")
    expect(page.locator("#entry-score")).to_have_text("770")
    expect(page.locator("#entry-percentile")).to_have_text("0%")
    expect(page.locator("#entry-next")).to_have_text("11 points to pass the next player")
    assert entry["to_next"] == 11
    expect(page.locator("#matches")).to_be_hidden()
    # Their page of the table, with their row marked; their range in the histogram.
    expect(page.locator("#range")).to_have_text("Ranks 21-24 of 24")
    expect(page.locator("#top tr.me")).to_have_count(1)
    expect(page.locator("#top tr.me")).to_contain_text("Samwise")
    expect(page.locator("#top tr.me td.rank")).to_have_text("24")
    expect(page.locator("#histogram rect.mine")).to_have_count(1)
    assert page.locator("#histogram rect.mine").get_attribute("data-from") == "770"

    # The keyboard: down into the matches, Enter on the second one.
    page.locator("#player").fill("Ad")
    expect(page.locator("#matches button")).to_have_count(2)
    page.locator("#player").press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#entry-name")).to_have_text("Adam")
    expect(page.locator("#entry-rank")).to_have_text("2 of 24")
    expect(page.locator("#entry-percentile")).to_have_text("95.7%")  # 22 of 23 below
    expect(page.locator("#range")).to_have_text("Ranks 1-10 of 24")
    expect(page.locator("#top tr.me")).to_contain_text("Adam")

    # The chosen entry follows the board: Adam is passed, and is told by how much.
    seed.score(board, players["Grace"], 995)
    expect(page.locator("#entry-rank")).to_have_text("3 of 24", timeout=10_000)
    expect(page.locator("#entry-next")).to_have_text("6 points to pass the next player")
    seed.score(board, players["Adam"], 2_000)
    expect(page.locator("#entry-rank")).to_have_text("1 of 24", timeout=10_000)
    expect(page.locator("#entry-next")).to_have_text("First place: nobody left to pass.")
    opened.check()


def test_a_pasted_player_id_reads_that_players_entry(server: str, seed: Seed, page: Page) -> None:
    board, players = seeded(seed)
    opened = open_board(page, server, board)
    samira = players["Samira"]

    page.locator("#player").fill(samira.upper())  # pasted, in capitals
    expect(page.locator("#entry-name")).to_have_text("Samira")
    expect(page.locator("#entry-rank")).to_have_text("19 of 24")
    assert opened.reads(f"/players/{samira}") != []
    assert opened.reads("?name=") == []  # an id is not searched as a name
    expect(page.locator("#range")).to_have_text("Ranks 11-20 of 24")
    expect(page.locator("#top tr.me")).to_contain_text("Samira")

    # An id with no entry here, and one that is no player at all, say so.
    nobody = seed.player("Nobody")
    for unknown in (nobody, str(uuid.uuid4())):
        page.locator("#player").fill(unknown)
        page.locator("#search button[type=submit]").click()
        expect(page.locator("#search-message")).to_have_text(
            "That player has no entry on this board."
        )
        expect(page.locator("#entry")).to_be_hidden()
    opened.check()
