"""What the live page's browser tests share: a served board seeded through the API, the page
opened offline, and checking a screenshot."""

from __future__ import annotations

import os
import struct
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.calendar import ORDINARY_DAY, noon
from tests.conftest import TEST_ADMIN_TOKEN
from tests.pages import offline, problems

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


def open_board(page: Page, server: str, board: str, day: date = ORDINARY_DAY) -> Opened:
    """The board's live page, in a browser whose clock reads noon of ``day``: the day the
    served service lives on too (``server_fixture``), whatever day the test runs."""
    page.clock.install(time=noon(day))
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
