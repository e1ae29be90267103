"""The live league page (/leagues/{id}) in a real headless Chromium, over a real server:
a cohort with its zones, redrawn as zones change, under the page's strict CSP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.calendar import ORDINARY_DAY, noon
from tests.league_helpers import THREE_TIERS
from tests.live_page_helpers import ADMIN
from tests.pages import offline, problems
from tests.procs import server_fixture

pytestmark = pytest.mark.slow

server = server_fixture("live-league-page")


@pytest.fixture
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=10, headers=ADMIN) as client:
        yield client


def league_with(api: httpx.Client, scores: dict[str, int]) -> tuple[str, dict[str, str]]:
    """A weekly league of three tiers, cohorts of 5; a Bronze player per name and score."""
    league = f"live-{uuid.uuid4().hex[:8]}"
    body = {
        "id": league,
        "name": "Weekly League",
        "schedule": "weekly",
        "cohort_size": 5,
        "tiers": THREE_TIERS,
        "rate_limit": {"limit": 1000, "window_seconds": 60},
    }
    assert api.post("/v1/leagues", json=body).status_code == 201
    ids = {}
    for name, score in scores.items():
        made = api.post("/v1/players", json={"display_name": name})
        ids[name] = made.json()["player_id"]
        submit(api, league, ids[name], score)
    return league, ids


def submit(api: httpx.Client, league: str, player: str, score: int) -> None:
    sent = api.post(f"/v1/leagues/{league}/scores", json={"score": score, "player_id": player})
    assert sent.status_code == 200, sent.text


def open_league(page: Page, server: str, path: str) -> tuple[list[str], list[str]]:
    page.clock.install(time=noon(ORDINARY_DAY))
    refused, seen = offline(page), problems(page)
    page.goto(f"{server}{path}")
    expect(page.locator("#live")).to_have_text("live", timeout=10_000)
    return refused, seen


def test_a_cohort_shows_its_zones_and_follows_them_live(
    server: str, api: httpx.Client, page: Page
) -> None:
    league, ids = league_with(api, {"Ada": 50, "Grace": 40, "Linus": 30, "Ken": 20, "Barbara": 10})
    refused, seen = open_league(page, server, f"/leagues/{league}")
    expect(page.locator("#title")).to_have_text("Weekly League")
    expect(page.locator("#season")).to_have_text("Season 1")
    expect(page.locator("#countdown")).to_contain_text("ends in")
    rows = page.locator("#cohort tr")
    expect(rows).to_have_count(5)
    expect(page.locator("#heading")).to_have_text("Bronze · cohort 1")
    expect(page.locator("#members")).to_have_text("5 of 5 players")
    zones = page.locator("#cohort .zone")
    expect(zones).to_have_text(["promote", "promote", "stay", "stay", "stay"])
    expect(rows.nth(1)).to_have_class("promote edge-below")

    # Barbara jumps into the promotion zone; Grace is pushed out of it: no reload.
    submit(api, league, ids["Barbara"], 100)
    expect(rows.first).to_contain_text("Barbara", timeout=10_000)
    expect(rows.nth(2)).to_contain_text("Grace")
    expect(zones.nth(2)).to_have_text("stay")

    # Silver has nobody yet this season; the page says so.
    page.get_by_role("button", name="Silver").click()
    expect(page.locator("#cohort-empty")).to_be_visible()
    page.get_by_role("button", name="Bronze").click()
    expect(rows).to_have_count(5)

    page.fill("#player", ids["Ken"])
    page.click("#search button[type=submit]")
    expect(page.locator("#cohort tr.me")).to_contain_text("Ken")
    assert refused == []
    assert seen == []


def test_a_page_for_a_player_and_for_no_league(server: str, api: httpx.Client, page: Page) -> None:
    league, ids = league_with(api, {f"P{i}": i for i in range(7)})  # cohorts of 5 and 2
    open_league(page, server, f"/leagues/{league}?player={ids['P6']}")
    expect(page.locator("#heading")).to_have_text("Bronze · cohort 2")
    expect(page.locator("#cohort tr.me")).to_contain_text("P6")
    expect(page.locator("#prev")).to_be_enabled()
    page.click("#prev")
    expect(page.locator("#heading")).to_have_text("Bronze · cohort 1")
    expect(page.locator("#cohort tr")).to_have_count(5)
    page.goto(f"{server}/leagues/nope-{uuid.uuid4().hex[:6]}")
    expect(page.locator("#missing")).to_be_visible()


def test_the_page_is_served_with_a_strict_policy(server: str) -> None:
    response = httpx.get(f"{server}/leagues/anything", timeout=10)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
