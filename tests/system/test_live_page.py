"""The live leaderboard page, in a real headless Chromium (Debian's), over a real server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import TEST_ADMIN_TOKEN
from tests.pages import offline, problems
from tests.procs import running_service, service_env

pytestmark = pytest.mark.slow

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


@pytest.fixture
def server(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> Iterator[str]:
    env = service_env(tmp_path, database_url, redis_server_url, redis_key_prefix)
    with running_service(tmp_path, env) as service:
        yield service.base


def test_the_page_reorders_live_and_finds_a_player(server: str, page: Page) -> None:
    http = httpx.Client(base_url=server, timeout=10)
    board = f"live-{uuid.uuid4().hex[:8]}"
    created = http.post(
        "/v1/leaderboards",
        json={"id": board, "name": "Weekly Race", "reset": "weekly"},
        headers=ADMIN,
    )
    assert created.status_code == 201
    names = ["Ada", "Grace", "Linus", "Ken", "Barbara"]
    players = {}
    for i, name in enumerate(names):
        signed = http.post(
            "/v1/auth/device", json={"device_id": f"device-{uuid.uuid4()}", "display_name": name}
        ).json()
        players[name] = signed["player_id"]
        http.post(
            f"/v1/leaderboards/{board}/scores",
            json={"score": (i + 1) * 100, "player_id": signed["player_id"]},
            headers=ADMIN,
        )

    refused = offline(page)
    seen = problems(page)
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.goto(f"{server}/boards/{board}")
    expect(page.locator("#title")).to_have_text("Weekly Race")
    expect(page.locator("#live")).to_have_text("live", timeout=10_000)
    rows = page.locator("#top tr")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("Barbara")
    expect(page.locator("#countdown")).to_contain_text("Resets in")
    expect(page.locator("#total")).to_have_text("· 5 players")
    assert_count_beside_heading(page)

    # Ada jumps from last to first: the row moves without a reload.
    http.post(
        f"/v1/leaderboards/{board}/scores",
        json={"score": 10_000, "player_id": players["Ada"]},
        headers=ADMIN,
    )
    expect(rows.first).to_contain_text("Ada", timeout=10_000)
    expect(rows.first).to_contain_text("10,000")

    page.fill("#player", players["Linus"])
    page.click("button[type=submit]")
    expect(page.locator("#around-message")).to_have_text("Rank 4 of 5")
    expect(page.locator("#around tr.me")).to_contain_text("Linus")

    # On a phone's width too, the count stays on the heading's line.
    page.set_viewport_size({"width": 360, "height": 800})
    assert_count_beside_heading(page)
    page.set_viewport_size({"width": 820, "height": 900})

    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "live-board.png"), full_page=True)
    assert (OUTPUT / "live-board.png").stat().st_size > 10_000
    http.close()
    # All of it under the page's Content-Security-Policy, with no network but this machine.
    assert refused == []
    assert seen == []
    assert sockets == [f"{server.replace('http://', 'ws://')}/v1/leaderboards/{board}/ws"]


def assert_count_beside_heading(page: Page) -> None:
    """ "· N players" sits on the line of "Top 10", right after it (it once wrapped)."""
    boxes = page.evaluate(
        """() => {
            const total = document.getElementById("total");
            const range = document.createRange();
            range.selectNodeContents(total.parentElement.firstChild);
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
