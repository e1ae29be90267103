"""The live leaderboard page, in a real headless Chromium (Debian's), over a real server.

This module also holds what the other ``test_live_page_*`` modules share: seeding boards
through the API (``Seed``), opening the page offline (``open_board``) and checking a
screenshot (``check_png``). The README's pictures, docs/images/live-board.png and
live-board-narrow.png, are taken here.
"""

from __future__ import annotations

import os
import random
import struct
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import TEST_ADMIN_TOKEN
from tests.pages import offline, problems
from tests.procs import running_service, service_env

pytestmark = pytest.mark.slow

# The README's pictures are retaken into docs/images/ only when asked
# (LEADERBOARD_UPDATE_SCREENSHOTS=1): a plain test run leaves the working tree clean and
# writes them to test-output/ instead.
IMAGES = (
    Path(__file__).resolve().parents[2] / "docs" / "images"
    if os.environ.get("LEADERBOARD_UPDATE_SCREENSHOTS") == "1"
    else Path(__file__).resolve().parents[2] / "test-output"
)
ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
# 45 players' names, best first where a test seeds them in this order.
NAMES = (  # noqa: SIM905 - easier to read as words
    "Ada Grace Linus Ken Barbara Alan Margaret Dennis Frances Edsger John Radia Tim Guido "
    "Bjarne Niklaus Donald Leslie Shafi Whitfield Adele Sophie Katherine Hedy Claude Jean "
    "Fran Lynn Mary Annie Evelyn Ida Kathleen Betty Marlyn Ruth Jude Carl Sam Samantha "
    "Samir Samuel Sammy Samson Samira"
).split()


def server_fixture() -> Any:
    """A ``server`` fixture: one `leaderboard serve` for a module's tests (each makes its
    own boards), for ``server = server_fixture()`` in each ``test_live_page*`` module."""

    @pytest.fixture(scope="module")
    def server(
        tmp_path_factory: pytest.TempPathFactory,
        database_url: str,
        redis_server_url: str,
        redis_key_prefix: str,
    ) -> Iterator[str]:
        tmp_path = tmp_path_factory.mktemp("live-page")
        env = service_env(tmp_path, database_url, redis_server_url, redis_key_prefix)
        with running_service(tmp_path, env) as service:
            yield service.base

    return server


server = server_fixture()


class Seed:
    """Boards, players and scores made through the public API with the admin token."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=10, headers=ADMIN)

    def board(self, name: str = "Weekly Race", **fields: Any) -> str:
        board = f"live-{uuid.uuid4().hex[:8]}"
        body = {"id": board, "name": name, "reset": "weekly", **fields}
        body.setdefault("rate_limit", {"limit": 1000, "window_seconds": 60})
        created = self.http.post("/v1/leaderboards", json=body)
        assert created.status_code == 201, created.text
        return board

    def player(self, name: str) -> str:
        made = self.http.post("/v1/players", json={"display_name": name})
        assert made.status_code == 201, made.text
        return str(made.json()["player_id"])

    def score(self, board: str, player: str, score: int) -> dict[str, Any]:
        sent = self.http.post(
            f"/v1/leaderboards/{board}/scores", json={"score": score, "player_id": player}
        )
        assert sent.status_code == 200, sent.text
        return dict(sent.json())

    def players(self, board: str, scores: dict[str, int]) -> dict[str, str]:
        """A player per name with that score; their ids by name."""
        ids = {}
        for name, score in scores.items():
            ids[name] = self.player(name)
            self.score(board, ids[name], score)
        return ids

    def get(self, path: str, **params: Any) -> Any:
        answer = self.http.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def close(self) -> None:
        self.http.close()


def seed_fixture() -> Any:
    """A ``seed`` fixture (a ``Seed`` on the module's server), as ``server_fixture``."""

    @pytest.fixture
    def seed(server: str) -> Iterator[Seed]:
        seeding = Seed(server)
        yield seeding
        seeding.close()

    return seed


seed = seed_fixture()


@dataclass
class Opened:
    """A page opened offline, with what it was refused, its problems and its requests."""

    refused: list[str]
    seen: list[str]
    sockets: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def reads(self, part: str) -> list[str]:
        return [url for url in self.requests if part in url]

    def check(self) -> None:
        """Everything under the page's Content-Security-Policy, with no network but here."""
        assert self.refused == []
        assert self.seen == []
        assert len(self.sockets) == 1, self.sockets


def open_board(page: Page, server: str, board: str) -> Opened:
    opened = Opened(offline(page), problems(page))
    page.on("websocket", lambda socket: opened.sockets.append(socket.url))
    page.on("request", lambda request: opened.requests.append(request.url))
    page.goto(f"{server}/boards/{board}")
    expect(page.locator("#live")).to_have_text("live", timeout=10_000)
    return opened


def check_png(path: Path, width: int, min_height: int) -> None:
    """A real PNG of that width, at least that tall, with something drawn in it."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert data[12:16] == b"IHDR"
    png_width, png_height = struct.unpack(">II", data[16:24])
    assert png_width == width, (path, png_width)
    assert png_height >= min_height, (path, png_height)
    assert len(data) > 20_000, (path, len(data))  # a blank page compresses far smaller


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
