"""The live page's admin view: the review queue, with the token kept in the page only."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import TEST_ADMIN_TOKEN
from tests.live_page_helpers import Seed, open_board, seed_fixture
from tests.procs import server_fixture

pytestmark = pytest.mark.slow

server = server_fixture("live-page-review")
seed = seed_fixture()


def held(seed: Seed, board: str, score: int) -> tuple[str, int]:
    """A player's own submission, held for review: (player id, submission id)."""
    signed = seed.http.post("/v1/auth/device", json={"device_id": f"dev-{uuid.uuid4()}"})
    assert signed.status_code == 200, signed.text
    token = signed.json()["token"]
    sent = seed.http.post(
        f"/v1/leaderboards/{board}/scores",
        json={"score": score, "evidence_url": "https://replays.example/run"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert sent.status_code == 202, sent.text
    return str(signed.json()["player_id"]), int(sent.json()["submission_id"])


def test_the_admin_approves_and_rejects_from_the_page(server: str, seed: Seed, page: Page) -> None:
    board = seed.board(review="all")
    (first, first_id), (_, second_id) = held(seed, board, 700), held(seed, board, 9_999)
    opened = open_board(page, server, board)
    page.locator("#review-panel summary").click()

    page.locator("#review-token").fill("not-a-token")
    page.locator("#review-login button[type=submit]").click()
    expect(page.locator("#review-message")).to_have_text("This token may not review this board.")
    expect(page.locator("#review-queue")).to_be_hidden()

    page.locator("#review-token").fill(TEST_ADMIN_TOKEN)
    page.locator("#review-login button[type=submit]").click()
    items = page.locator("#review-queue li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text(f"#{first_id}")  # oldest first
    expect(items.nth(0)).to_contain_text("700")
    expect(items.nth(1)).to_contain_text("9,999")
    expect(items.nth(0).locator("a.evidence")).to_have_attribute(
        "href", "https://replays.example/run"
    )
    expect(page.locator("#review-token")).to_have_value("")  # not left in the field
    kept = page.evaluate("() => [localStorage.length, sessionStorage.length, document.cookie]")
    assert kept == [0, 0, ""]

    items.nth(0).locator("button.approve").click()
    expect(page.locator("#review-message")).to_have_text(f"Approved #{first_id}.")
    expect(items).to_have_count(1)
    # Approved: the player is on the board, and the live table shows them.
    assert seed.get(f"/v1/leaderboards/{board}/players/{first}")["score"] == 700
    expect(page.locator("#top tr")).to_have_count(1)

    items.nth(0).locator("button.reject").click()
    expect(page.locator("#review-message")).to_have_text(f"Give a reason to reject #{second_id}.")
    items.nth(0).locator("input.reason").fill("no such time is possible")
    items.nth(0).locator("button.reject").click()
    expect(page.locator("#review-message")).to_have_text("Nothing is waiting for review.")
    decided = seed.get(f"/v1/submissions/{second_id}")
    assert (decided["status"], decided["reason"]) == ("rejected", "no such time is possible")

    page.locator("#review-forget").click()
    expect(page.locator("#review-forget")).to_be_hidden()
    opened.check()
