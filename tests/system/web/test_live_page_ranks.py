"""The live page on a board with shared ranks: ties share a number, the page says so, and
a chosen player's entry tells what the next rank takes and their best rank so far."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.live_page_helpers import Seed, open_board, seed_fixture
from tests.procs import server_fixture

pytestmark = pytest.mark.slow

server = server_fixture("live-page")
seed = seed_fixture()

SCORES = {"Ada": 900, "Grace": 800, "Linus": 800, "Sam": 700, "Ken": 600}


@pytest.mark.parametrize(
    ("style", "ranks", "note"),
    [
        ("competition", ["1", "2", "2", "4", "5"], "Tied scores share a rank (1, 2, 2, 4)"),
        ("dense", ["1", "2", "2", "3", "4"], "Tied scores share a rank (1, 2, 2, 3)"),
    ],
)
def test_tied_scores_share_a_rank_on_the_page(
    server: str, seed: Seed, page: Page, style: str, ranks: list[str], note: str
) -> None:
    board = seed.board("Shared", ranks=style)
    ids = seed.players(board, SCORES)
    open_board(page, server, board)
    rows = page.locator("#top tr")
    expect(rows).to_have_count(5)
    expect(page.locator("#top td.rank")).to_have_text(ranks)
    expect(page.locator("#top td.name")).to_have_text(list(SCORES))  # the order stays
    expect(page.locator("#ranks")).to_have_text(note)

    page.locator("#player").fill(ids["Sam"])
    page.locator("#player").press("Enter")
    expect(page.locator("#entry-rank")).to_have_text(f"{ranks[3]} of 5")
    expect(page.locator("#entry-next")).to_have_text("100 points to tie the next score up")
    expect(page.locator("#entry-best")).to_have_text(f"Best: #{ranks[3]}, in this period")
    expect(page.locator("#top tr.me")).to_contain_text("Sam")


def test_an_ordinal_board_says_nothing_of_ties(server: str, seed: Seed, page: Page) -> None:
    board = seed.board("Plain")
    ids = seed.players(board, SCORES)
    open_board(page, server, board)
    expect(page.locator("#top td.rank")).to_have_text(["1", "2", "3", "4", "5"])
    expect(page.locator("#ranks")).to_be_hidden()
    page.locator("#player").fill(ids["Linus"])
    page.locator("#player").press("Enter")
    expect(page.locator("#entry-next")).to_have_text("1 point to pass the next player")


def test_a_country_filter_ranks_the_players_of_one_country(
    server: str, seed: Seed, page: Page
) -> None:
    board = seed.board("By country", segments=["country"])
    ids = seed.players(board, SCORES)
    for name, country in {"Ada": "GB", "Grace": "US", "Linus": "FI", "Sam": "US"}.items():
        moved = seed.http.patch(f"/v1/players/{ids[name]}", json={"country": country})
        assert moved.status_code == 200, moved.text
    opened = open_board(page, server, board)
    expect(page.locator("#countries")).to_be_visible()
    expect(page.locator("#top tr")).to_have_count(5)
    page.locator("#country").fill("us")
    expect(page.locator("#top td.name")).to_have_text(["Grace", "Sam"])
    expect(page.locator("#top td.rank")).to_have_text(["1", "2"])
    expect(page.locator("#country-shown")).to_have_text("ranked within US")
    assert any("country=US" in url for url in opened.reads("/top")), opened.requests
    # A score of a player from the US moves the table at once (events refresh it).
    seed.score(board, ids["Sam"], 850)
    expect(page.locator("#top td.name")).to_have_text(["Sam", "Grace"])
    page.locator("#country").fill("")
    expect(page.locator("#top tr")).to_have_count(5)


def test_boards_without_segments_have_no_country_filter(
    server: str, seed: Seed, page: Page
) -> None:
    board = seed.board("Plain")
    seed.players(board, SCORES)
    open_board(page, server, board)
    expect(page.locator("#top tr")).to_have_count(5)
    expect(page.locator("#countries")).to_be_hidden()
