"""The live leaderboard page, in a real headless Chromium (Debian's), over a real server.

What the ``test_live_page_*`` modules share is in tests/live_page_helpers.py. The README's
pictures, docs/images/live-board.png and
live-board-narrow.png, are taken here.
"""

from __future__ import annotations

import os
import random

import pytest
from playwright.sync_api import Page, expect

from tests.live_page_helpers import (
    NAMES,
    Seed,
    check_png,
    open_board,
    seed_fixture,
)
from tests.pages import offline, problems
from tests.paths import REPO
from tests.procs import server_fixture

pytestmark = pytest.mark.slow

# The README's pictures are retaken into docs/images/ only when asked
# (LEADERBOARD_UPDATE_SCREENSHOTS=1): a plain test run leaves the working tree clean and
# writes them to test-output/ instead.
IMAGES = (
    REPO / "docs" / "images"
    if os.environ.get("LEADERBOARD_UPDATE_SCREENSHOTS") == "1"
    else REPO / "test-output"
)


server = server_fixture("live-page")


seed = seed_fixture()


def test_the_page_reorders_live_and_finds_a_player(server: str, seed: Seed, page: Page) -> None:
    board = seed.board()
    names = ["Ada", "Grace", "Linus", "Ken", "Barbara"]
    players = seed.players(board, {name: (i + 1) * 100 for i, name in enumerate(names)})

    opened = open_board(page, server, board)
    expect(page.locator("#title")).to_have_text("Weekly Race")
    rows = page.locator("#top tr")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("Barbara")
    expect(page.locator("#countdown")).to_contain_text("Resets in")
    expect(page.locator("#total")).to_have_text("· 5 players")
    expect(page.locator("#pager")).to_be_hidden()  # one page only
    assert_count_beside_heading(page)

    # Ada jumps from last to first: the row moves without a reload.
    seed.score(board, players["Ada"], 10_000)
    expect(rows.first).to_contain_text("Ada", timeout=10_000)
    expect(rows.first).to_contain_text("10,000")

    page.fill("#player", players["Linus"])
    page.click("#search button[type=submit]")
    expect(page.locator("#entry-rank")).to_have_text("4 of 5")
    expect(page.locator("#top tr.me")).to_contain_text("Linus")

    # On a phone's width too, the count stays on the heading's line.
    page.set_viewport_size({"width": 360, "height": 800})
    assert_count_beside_heading(page)
    opened.check()


def assert_count_beside_heading(page: Page) -> None:
    """ "· N players" sits on the line of the heading, right after it (it once wrapped)."""
    boxes = page.evaluate(
        """() => {
            const total = document.getElementById("total");
            const range = document.createRange();
            range.selectNodeContents(document.getElementById("heading"));
            const text = range.getBoundingClientRect(), count = total.getBoundingClientRect();
            return {textTop: text.top, textRight: text.right, textHeight: text.height,
                    countTop: count.top, countLeft: count.left, countHeight: count.height,
                    countRects: total.getClientRects().length};
        }"""
    )
    assert boxes["countRects"] == 1, boxes
    assert boxes["countLeft"] >= boxes["textRight"], boxes
    # Same line: the count's box lies within the heading text's line box.
    assert boxes["countTop"] >= boxes["textTop"] - 1, boxes
    assert boxes["countTop"] + boxes["countHeight"] <= boxes["textTop"] + boxes["textHeight"] + 1


def assert_fits(page: Page, width: int) -> None:
    """Nothing sticks out sideways: no horizontal scrolling, every control inside."""
    overflow = page.evaluate(
        """(width) => {
            const out = [], page = document.documentElement.scrollWidth;
            if (page > width) out.push(`page ${page}`);
            for (const node of document.querySelectorAll("main *")) {
                const right = node.getBoundingClientRect().right;
                if (right > width + 0.5) out.push(`${node.tagName}#${node.id} ${right}`);
            }
            return out;
        }""",
        width,
    )
    assert overflow == [], overflow


def test_the_readme_screenshots_wide_and_narrow(server: str, seed: Seed, page: Page) -> None:
    board = seed.board()
    # A bell of scores (the histogram's shape), best first in the order of NAMES.
    rng = random.Random(7)
    scores = sorted((round(rng.gauss(3_000, 700)) for _ in NAMES), reverse=True)
    players = seed.players(board, dict(zip(NAMES, scores, strict=True)))
    opened = open_board(page, server, board)
    expect(page.locator("#range")).to_have_text("Ranks 1-10 of 45")
    expect(page.locator("#histogram rect.bar")).to_have_count(20)

    # Someone chosen by name, and the board moving: a climber, a newcomer, the passed.
    page.locator("#player").press_sequentially("fran", delay=40)
    expect(page.locator("#matches button")).to_have_count(2)  # Frances, Fran
    page.locator("#matches button", has_text="Frances").click()
    expect(page.locator("#entry-rank")).to_have_text("9 of 45")
    expect(page.locator("#top tr.me")).to_contain_text("Frances")
    seed.score(board, players["Margaret"], scores[4] + 1)  # 7th -> 5th
    seed.score(board, seed.player("Hopper"), scores[2] - 1)  # new, 4th
    expect(page.locator("#top .mark.up")).to_have_text("\u25b21")  # 7th, 5th, then 6th
    expect(page.locator("#top .mark.new")).to_have_count(1)
    expect(page.locator("#top .mark.down")).to_have_count(5)  # the 4th to 9th, less Margaret
    expect(page.locator("#histogram-total")).to_have_text("\u00b7 46 scores", timeout=5_000)

    for width, name in ((820, "live-board.png"), (360, "live-board-narrow.png")):
        page.set_viewport_size({"width": width, "height": 900})
        assert_fits(page, width)
        assert_count_beside_heading(page)
        IMAGES.mkdir(exist_ok=True)
        page.screenshot(path=str(IMAGES / name), full_page=True, animations="disabled")
        check_png(IMAGES / name, width, 900)
    opened.check()


def test_an_unknown_board_says_so(server: str, page: Page) -> None:
    refused = offline(page)
    seen = problems(page)
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.goto(f"{server}/boards/no-such-board")
    expect(page.locator("#title")).to_have_text("No leaderboard no-such-board")
    # Not a red "connecting…" forever: the status and a notice say it does not exist.
    expect(page.locator("#live")).to_have_text("not found")
    expect(page.locator("#dot")).to_have_class("dot gone")  # grey, not the red of "down"
    expect(page.locator("#missing")).to_be_visible()
    expect(page.locator("#missing")).to_contain_text(
        "There is no leaderboard no-such-board on this service."
    )
    expect(page.locator("#board")).to_be_hidden()
    expect(page).to_have_title("No such leaderboard")
    assert sockets == [], "nothing to connect to"
    assert refused == []
    assert seen == []
