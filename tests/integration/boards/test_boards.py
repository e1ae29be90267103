"""Leaderboard administration, periods and outages, through the app."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.boards.models import Reset
from leaderboard.boards.periods import period_end, period_start
from leaderboard.lib.clock import MovableClock
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedPostgres, EmbeddedValkey
from leaderboard.ops.migrations import apply_migrations
from leaderboard.server.app import create_app
from tests.calendar import at
from tests.conftest import ADMIN
from tests.helpers import async_wait_until, sign_in


def board_id() -> str:
    return f"b-{uuid.uuid4().hex[:12]}"


async def create_board(client: AsyncTestClient[Litestar], **spec: Any) -> dict[str, Any]:
    body = {"id": board_id(), "rate_limit": {"limit": 1000, "window_seconds": 60}, **spec}
    response = await client.post("/v1/leaderboards", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def submit(
    client: AsyncTestClient[Litestar], board: str, headers: dict[str, str], score: int
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/leaderboards/{board}/scores", json={"score": score}, headers=headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# -- administration ----------------------------------------------------------------


@pytest.mark.redis_modes
async def test_create_with_defaults_get_list_delete(client: AsyncTestClient[Litestar]) -> None:
    bid = board_id()
    created = await client.post("/v1/leaderboards", json={"id": bid}, headers=ADMIN)
    assert created.status_code == 201
    board = created.json()
    assert board["order"] == "desc"
    assert board["operator"] == "best"
    assert board["reset"] == "never"
    assert board["rate_limit"] == {"limit": 10, "window_seconds": 60}
    assert board["name"] == bid
    assert (await client.get(f"/v1/leaderboards/{bid}")).json() == board
    listed = (await client.get("/v1/leaderboards")).json()["leaderboards"]
    assert board in listed
    again = await client.post("/v1/leaderboards", json={"id": bid}, headers=ADMIN)
    assert again.status_code == 409
    assert (await client.delete(f"/v1/leaderboards/{bid}", headers=ADMIN)).status_code == 204
    assert (await client.get(f"/v1/leaderboards/{bid}")).status_code == 404
    assert (await client.delete(f"/v1/leaderboards/{bid}", headers=ADMIN)).status_code == 404


async def test_only_the_admin_administers_boards(client: AsyncTestClient[Litestar]) -> None:
    _, player = await sign_in(client)
    bid = board_id()
    assert (await client.post("/v1/leaderboards", json={"id": bid})).status_code == 401
    assert (
        await client.post("/v1/leaderboards", json={"id": bid}, headers=player)
    ).status_code == 403
    board = await create_board(client)
    url = f"/v1/leaderboards/{board['id']}"
    assert (await client.delete(url, headers=player)).status_code == 403
    assert (await client.delete(url)).status_code == 401
    assert (await client.get(url)).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "Upper"}, "id"),
        ({"id": "-lead"}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"id": "ok", "order": "sideways"}, "order"),
        ({"id": "ok", "operator": "max"}, "operator"),
        ({"id": "ok", "reset": "hourly"}, "reset"),
        ({"id": "ok", "rate_limit": {"limit": 0, "window_seconds": 60}}, "limit"),
        ({"id": "ok", "rate_limit": {"limit": 5, "window_seconds": 0}}, "window_seconds"),
        ({"id": "ok", "metadata": [1]}, "metadata"),
        ({"id": "ok", "colour": "red"}, "colour"),
        ({}, "id"),
    ],
)
async def test_bad_board_specs_are_400(
    client: AsyncTestClient[Litestar], body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/leaderboards", json=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset"), ("limit=x", "limit")],
)
async def test_bad_page_queries_are_400(
    client: AsyncTestClient[Litestar], query: str, field: str
) -> None:
    board = await create_board(client)
    response = await client.get(f"/v1/leaderboards/{board['id']}/top?{query}")
    assert response.status_code == 400
    assert field in response.json()["detail"]


@pytest.mark.redis_modes
async def test_unknown_boards_and_entries_are_404(client: AsyncTestClient[Litestar]) -> None:
    player, headers = await sign_in(client)
    assert (await client.get("/v1/leaderboards/nope-nope/top")).status_code == 404
    response = await client.post(
        "/v1/leaderboards/nope-nope/scores", json={"score": 1}, headers=headers
    )
    assert response.status_code == 404
    board = await create_board(client)
    entry = await client.get(f"/v1/leaderboards/{board['id']}/players/{player}")
    assert entry.status_code == 404
    around = await client.get(f"/v1/leaderboards/{board['id']}/players/{player}/around")
    assert around.status_code == 404


@pytest.mark.redis_modes
async def test_the_rate_limit_guards_submissions(client: AsyncTestClient[Litestar]) -> None:
    board = await create_board(client, rate_limit={"limit": 2, "window_seconds": 60})
    _, headers = await sign_in(client)
    url = f"/v1/leaderboards/{board['id']}/scores"
    first = await client.post(url, json={"score": 1}, headers=headers)
    second = await client.post(url, json={"score": 2}, headers=headers)
    assert [first.headers["ratelimit-remaining"], second.headers["ratelimit-remaining"]] == [
        "1",
        "0",
    ]
    throttled = await client.post(url, json={"score": 100}, headers=headers)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1
    top = (await client.get(f"/v1/leaderboards/{board['id']}/top")).json()
    assert [e["score"] for e in top["entries"]] == [2], "a throttled submission writes nothing"


@pytest.mark.redis_modes
async def test_deleting_a_board_removes_its_keys(
    client: AsyncTestClient[Litestar], redis: AnyRedis, redis_key_prefix: str
) -> None:
    board = await create_board(client)
    _, headers = await sign_in(client)
    await submit(client, board["id"], headers, 5)
    pattern = f"{redis_key_prefix}lb:{{{board['id']}}}:*"
    assert [key async for key in redis.scan_iter(match=pattern)]
    await client.delete(f"/v1/leaderboards/{board['id']}", headers=ADMIN)
    assert not [key async for key in redis.scan_iter(match=pattern)]


# -- periods -------------------------------------------------------------------------


@pytest.mark.calendar
@pytest.mark.redis_modes
@pytest.mark.parametrize("reset", ["daily", "weekly", "monthly"])
async def test_each_reset_across_midnight(
    client: AsyncTestClient[Litestar], clock: MovableClock, calendar_day: date, reset: Reset
) -> None:
    # Two seconds before the end of the day, then two seconds into the next: a new period
    # starts exactly when the calendar says (daily always, weekly on Monday, monthly on
    # the 1st), empty; the one before stays readable as `previous` and by a date in it.
    clock.set(at(calendar_day, 23, 59, 58))
    next_day = calendar_day + timedelta(days=1)
    before, after = period_start(reset, calendar_day), period_start(reset, next_day)
    board = await create_board(client, reset=reset)
    bid = board["id"]
    alice, alice_headers = await sign_in(client)
    bob, bob_headers = await sign_in(client)
    first = await submit(client, bid, alice_headers, 50)
    assert first["period"] == before.isoformat()
    await submit(client, bid, bob_headers, 40)

    clock.advance(timedelta(seconds=4))
    later = await submit(client, bid, bob_headers, 10)
    assert later["period"] == after.isoformat()
    current = (await client.get(f"/v1/leaderboards/{bid}/top")).json()
    assert current["period"] == after.isoformat()
    if after == before:  # the same period goes on: bob keeps his better 40
        assert (later["rank"], later["score"], later["changed"]) == (2, 40, False)
        assert [e["player_id"] for e in current["entries"]] == [alice, bob]
        return
    assert (later["rank"], later["previous_rank"]) == (1, None), "a new period starts empty"
    assert [(e["player_id"], e["score"]) for e in current["entries"]] == [(bob, 10)]
    for period in ("previous", calendar_day.isoformat(), before.isoformat()):
        past = (await client.get(f"/v1/leaderboards/{bid}/top?period={period}")).json()
        assert past["period"] == before.isoformat()
        assert [(e["player_id"], e["score"]) for e in past["entries"]] == [(alice, 50), (bob, 40)]
    entry = await client.get(f"/v1/leaderboards/{bid}/players/{alice}?period=previous")
    assert entry.json()["rank"] == 1
    missing = await client.get(f"/v1/leaderboards/{bid}/players/{alice}")
    assert missing.status_code == 404, "alice has no entry in the new period yet"
    tomorrow = next_day + timedelta(days=1) if reset == "daily" else period_end(reset, after)
    bad = await client.get(f"/v1/leaderboards/{bid}/top?period={tomorrow}")
    assert bad.status_code == 400
    assert "period" in bad.json()["detail"]


@pytest.mark.calendar
@pytest.mark.redis_modes
async def test_a_past_period_is_rebuilt_on_demand(
    client: AsyncTestClient[Litestar],
    clock: MovableClock,
    calendar_day: date,
    redis: AnyRedis,
    redis_key_prefix: str,
) -> None:
    week = period_start("weekly", calendar_day).isoformat()
    board = await create_board(client, reset="weekly")
    bid = board["id"]
    player, headers = await sign_in(client)
    await submit(client, bid, headers, 7)
    clock.advance(timedelta(days=20))  # past the week's retention (its end + 7 days)
    async for key in redis.scan_iter(match=f"{redis_key_prefix}lb:{{{bid}}}:*"):
        await redis.unlink(key)  # the old week's index expired from Redis
    past = await client.get(f"/v1/leaderboards/{bid}/top?period={calendar_day.isoformat()}")
    assert past.json()["period"] == week
    assert [(e["player_id"], e["score"]) for e in past.json()["entries"]] == [(player, 7)]
    ttl_ms = await redis.pttl(f"{redis_key_prefix}lb:{{{bid}}}:{week}:z")
    assert abs(ttl_ms - 3_600_000) < 5000, "a rebuilt past period expires an hour later"


@pytest.mark.redis_modes
async def test_a_period_before_the_board_existed_is_empty_not_an_error(
    client: AsyncTestClient[Litestar], redis: AnyRedis, redis_key_prefix: str
) -> None:
    board = await create_board(client, reset="daily")
    bid = board["id"]
    player, headers = await sign_in(client)
    await submit(client, bid, headers, 7)
    for period in ("previous", "2020-01-01"):
        top = await client.get(f"/v1/leaderboards/{bid}/top?period={period}")
        assert top.status_code == 200, top.text
        assert (top.json()["total"], top.json()["entries"]) == (0, [])
        entry = await client.get(f"/v1/leaderboards/{bid}/players/{player}?period={period}")
        assert entry.status_code == 404
    keys = [key async for key in redis.scan_iter(match=f"{redis_key_prefix}lb:{{{bid}}}:2020*")]
    assert keys == [], "nothing is built for a period before the board"


@pytest.mark.redis_modes
async def test_a_never_resetting_board_has_no_period(client: AsyncTestClient[Litestar]) -> None:
    board = await create_board(client)
    _, headers = await sign_in(client)
    result = await submit(client, board["id"], headers, 3)
    assert result["period"] is None
    top = await client.get(f"/v1/leaderboards/{board['id']}/top?period=previous")
    assert top.status_code == 400


# -- outages -------------------------------------------------------------------------


@pytest.fixture
async def own_stack(
    settings: Settings, own_postgres: EmbeddedPostgres, own_valkey: EmbeddedValkey
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    await apply_migrations(own_postgres.url)
    own = msgspec.structs.replace(
        settings,
        database_url=own_postgres.url,
        redis_url=own_valkey.url,
        redis_key_prefix="",
        db_timeout=1.0,
        redis_timeout=0.5,
    )
    async with AsyncTestClient(app=create_app(own)) as client:
        yield client


async def test_postgres_down_reads_work_submissions_503(
    own_stack: AsyncTestClient[Litestar], own_postgres: EmbeddedPostgres
) -> None:
    client = own_stack
    board = await create_board(client)
    bid = board["id"]
    player, headers = await sign_in(client, display_name="Named")
    await submit(client, bid, headers, 99)
    top_before = (await client.get(f"/v1/leaderboards/{bid}/top")).json()

    own_postgres.stop()
    response = await client.post(
        f"/v1/leaderboards/{bid}/scores", json={"score": 120}, headers=headers
    )
    assert response.status_code == 503
    assert response.json()["dependency"] == "postgres"
    # Board config, ranks and names come from Redis.
    await async_wait_until(
        lambda: _status(client, f"/v1/leaderboards/{bid}/top", 200), 5, "board config cached"
    )
    assert (await client.get(f"/v1/leaderboards/{bid}/top")).json() == top_before
    entry = (await client.get(f"/v1/leaderboards/{bid}/players/{player}")).json()
    assert (entry["rank"], entry["score"], entry["display_name"]) == (1, 99, "Named")
    around = await client.get(f"/v1/leaderboards/{bid}/players/{player}/around")
    assert around.status_code == 200

    own_postgres.start()
    await async_wait_until(lambda: _submits(client, bid, headers), 15, "submissions to work again")
    assert (await client.get(f"/v1/leaderboards/{bid}/players/{player}")).json()["score"] == 120


async def test_redis_down_submissions_503_then_recover(
    own_stack: AsyncTestClient[Litestar], own_valkey: EmbeddedValkey
) -> None:
    client = own_stack
    board = await create_board(client)
    bid = board["id"]
    _, headers = await sign_in(client)
    await submit(client, bid, headers, 1)
    own_valkey.stop()
    response = await client.post(
        f"/v1/leaderboards/{bid}/scores", json={"score": 2}, headers=headers
    )
    assert response.status_code == 503
    assert response.json()["dependency"] == "redis"
    own_valkey.start()
    await async_wait_until(lambda: _submits(client, bid, headers), 10, "Redis to be back")


async def _status(client: AsyncTestClient[Litestar], url: str, status: int) -> bool:
    return (await client.get(url)).status_code == status


async def _submits(client: AsyncTestClient[Litestar], bid: str, headers: dict[str, str]) -> bool:
    response = await client.post(
        f"/v1/leaderboards/{bid}/scores", json={"score": 120}, headers=headers
    )
    return response.status_code == 200
