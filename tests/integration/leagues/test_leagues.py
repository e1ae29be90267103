"""Leagues through the HTTP API against real Postgres and Redis (single node and cluster):
creating them, placement in cohorts, ranks, zones, reads, limits and who may submit."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from tests.conftest import ADMIN
from tests.helpers import assert_error_shape, sign_in
from tests.league_helpers import THREE_TIERS, cohort, create_league, new_league_id, submit
from tests.scores_helpers import insert_players

pytestmark = pytest.mark.redis_modes

Client = AsyncTestClient[Litestar]


def midnight(day: date) -> str:
    return datetime.combine(day, time(0), UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.calendar
@pytest.mark.parametrize("schedule", ["daily", "weekly", "monthly"])
async def test_the_first_season_is_the_one_under_way_at_creation(
    client: Client, calendar_day: date, schedule: str
) -> None:
    league = await create_league(client, schedule=schedule)
    if schedule == "daily":
        start, end = calendar_day, calendar_day + timedelta(days=1)
    elif schedule == "weekly":
        start = calendar_day - timedelta(days=calendar_day.weekday())  # Monday
        end = start + timedelta(days=7)
    else:
        start = calendar_day.replace(day=1)
        end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    assert (league["season"], league["season_started_at"], league["season_ends_at"]) == (
        1, midnight(start), midnight(end)
    )  # fmt: skip
    assert league["operator"] == "sum"
    assert league["order"] == "desc"
    fetched = await client.get(f"/v1/leagues/{league['id']}")
    assert fetched.json() == league


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cohort_size": 1}, "cohort_size"),
        ({"cohort_size": 1001}, "cohort_size"),
        ({"tiers": []}, "tiers"),
        ({"tiers": [{"name": f"T{i}", "promote": 1, "demote": 1} for i in range(21)]}, "tiers"),
        ({"tiers": [{"name": "A", "promote": 1, "demote": 0}] * 2}, "tiers"),
        ({"tiers": [{"name": "A", "promote": -1, "demote": 0}]}, "tiers"),
        ({"schedule": "never"}, "schedule"),
        ({"schedule": None}, "schedule"),
        ({"operator": "max"}, "operator"),
        ({"id": "Not A Slug"}, "id"),
    ],
)
async def test_a_bad_league_is_refused_naming_the_field(
    client: Client, change: dict[str, Any], field: str
) -> None:
    body = {"id": new_league_id(), "schedule": "weekly", "tiers": THREE_TIERS, **change}
    body = {key: value for key, value in body.items() if value is not None}
    response = await client.post("/v1/leagues", json=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert_error_shape(response.json(), 400)
    assert field in response.json()["detail"]


async def test_create_read_list_delete(
    client: Client, database_url: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    league = await create_league(client, name="Weekly league")
    league_id = league["id"]
    again = await client.post(
        "/v1/leagues",
        json={"id": league_id, "schedule": "daily", "tiers": THREE_TIERS},
        headers=ADMIN,
    )
    assert again.status_code == 409
    assert (await client.post("/v1/leagues", json={"id": "x"})).status_code == 401
    listed = (await client.get("/v1/leagues")).json()["leagues"]
    assert league in listed
    (player, _), *_ = await insert_players(database_url, 1)
    await submit(client, league_id, player, 5)
    keys = Keys(redis_key_prefix)
    assert [k async for k in redis.scan_iter(match=keys.league_pattern(league_id))]
    assert (await client.delete(f"/v1/leagues/{league_id}")).status_code == 401
    assert (await client.delete(f"/v1/leagues/{league_id}", headers=ADMIN)).status_code == 204
    assert (await client.get(f"/v1/leagues/{league_id}")).status_code == 404
    assert (await client.delete(f"/v1/leagues/{league_id}", headers=ADMIN)).status_code == 404
    assert [k async for k in redis.scan_iter(match=keys.league_pattern(league_id))] == []


async def test_first_submissions_fill_cohorts_in_order_of_joining(
    client: Client, database_url: str
) -> None:
    league = await create_league(client, cohort_size=3)
    players = [p for p, _ in await insert_players(database_url, 7)]
    placed = [await submit(client, league["id"], player, 10) for player in players]
    assert [p["cohort"] for p in placed] == ["1-1-1"] * 3 + ["1-1-2"] * 3 + ["1-1-3"]
    assert {(p["tier"], p["tier_level"], p["season"]) for p in placed} == {("Bronze", 1, 1)}
    # A second submission keeps the player where they are.
    again = await submit(client, league["id"], players[0], 1)
    assert again["cohort"] == "1-1-1"
    full = await cohort(client, league["id"], "1-1-2")
    assert [e["player_id"] for e in full["entries"]] == players[3:6]


async def test_the_answer_ranks_within_the_cohort_first_to_reach_first(
    client: Client, database_url: str
) -> None:
    league = await create_league(client, cohort_size=4)  # sum, desc
    a, b, c = (p for p, _ in await insert_players(database_url, 3))
    first = await submit(client, league["id"], a, 50)
    assert first == {
        "player_id": a,
        "season": 1,
        "tier": "Bronze",
        "cohort": "1-1-1",
        "score": 50,
        "rank": 1,
        "previous_rank": None,
        "zone": "promote",
        "season_ends_at": league["season_ends_at"],
        "league": league["id"],
        "tier_level": 1,
        "members": 1,
    }
    assert (await submit(client, league["id"], b, 50))["rank"] == 2  # a reached 50 first
    second = await submit(client, league["id"], c, 30)
    assert (second["rank"], second["zone"]) == (3, "stay")  # Bronze promotes 2, demotes none
    moved = await submit(client, league["id"], c, 25)  # sum: 55
    assert (moved["score"], moved["rank"], moved["previous_rank"], moved["zone"]) == (
        55, 1, 3, "promote"
    )  # fmt: skip
    still = await submit(client, league["id"], b, 0)  # a sum of 0 changes nothing
    assert (still["score"], still["rank"], still["previous_rank"]) == (50, 3, 3)
    page = await cohort(client, league["id"], "1-1-1")
    assert [(e["player_id"], e["score"], e["rank"], e["zone"]) for e in page["entries"]] == [
        (c, 55, 1, "promote"),
        (a, 50, 2, "promote"),
        (b, 50, 3, "stay"),
    ]
    assert (page["tier"], page["closed"], page["season"]) == ("Bronze", False, 1)
    assert all(e["display_name"] for e in page["entries"])


@pytest.mark.parametrize(
    ("operator", "order", "scores", "stored"),
    [
        ("best", "desc", [10, 5, 12], 12),
        ("best", "asc", [10, 5, 12], 5),
        ("latest", "desc", [10, 5, 12], 12),
        ("latest", "asc", [10, 12, 5], 5),
        ("sum", "asc", [10, -4, 1], 7),
    ],
)
async def test_the_operator_makes_the_cohort_score(
    client: Client, database_url: str, operator: str, order: str, scores: list[int], stored: int
) -> None:
    league = await create_league(client, operator=operator, order=order)
    (player, _), (other, _) = await insert_players(database_url, 2)
    await submit(client, league["id"], other, 8)
    answers = [await submit(client, league["id"], player, score) for score in scores]
    assert answers[-1]["score"] == stored
    better = stored > 8 if order == "desc" else stored < 8
    assert answers[-1]["rank"] == (1 if better else 2)


async def test_reads_of_a_player_and_of_cohorts(client: Client, database_url: str) -> None:
    league = await create_league(client, cohort_size=3)
    league_id = league["id"]
    players = [p for p, _ in await insert_players(database_url, 4)]
    for i, player in enumerate(players):
        await submit(client, league_id, player, 10 * (i + 1))
    standing = (await client.get(f"/v1/leagues/{league_id}/players/{players[0]}")).json()
    assert (standing["rank"], standing["score"], standing["cohort"], standing["zone"]) == (
        3, 10, "1-1-1", "stay"
    )  # fmt: skip
    assert standing["previous_rank"] is None
    assert standing["season_ends_at"] == league["season_ends_at"]
    stranger = str(uuid.uuid4())
    for path, what in [
        (f"/v1/leagues/{league_id}/players/{stranger}", "player"),
        (f"/v1/leagues/{league_id}/players/not-a-uuid", "player"),
        (f"/v1/leagues/nope-{uuid.uuid4().hex[:6]}/players/{players[0]}", "league"),
        (f"/v1/leagues/{league_id}/cohorts/1-1-3", "cohort"),  # not made (yet)
        (f"/v1/leagues/{league_id}/cohorts/2-1-1", "cohort"),  # a season to come
        (f"/v1/leagues/{league_id}/cohorts/1-4-1", "cohort"),  # no tier 4
        (f"/v1/leagues/{league_id}/cohorts/banana", "cohort"),
        (f"/v1/leagues/{league_id}/cohorts/1-1-1x", "cohort"),
    ]:
        response = await client.get(path)
        assert response.status_code == 404, (what, path, response.text)
        assert_error_shape(response.json(), 404)
    history = await client.get(f"/v1/leagues/{league_id}/players/{players[0]}/seasons")
    assert history.json() == {"league": league_id, "player_id": players[0], "seasons": []}
    assert (
        await client.get(f"/v1/leagues/{league_id}/players/{players[0]}/seasons?limit=0")
    ).status_code == 400


async def test_submissions_are_rate_limited_per_player(client: Client) -> None:
    league = await create_league(client, rate_limit={"limit": 2, "window_seconds": 60})
    player, headers = await sign_in(client)
    for score in (1, 2):
        response = await client.post(
            f"/v1/leagues/{league['id']}/scores", json={"score": score}, headers=headers
        )
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "2"
    throttled = await client.post(
        f"/v1/leagues/{league['id']}/scores", json={"score": 100}, headers=headers
    )
    assert throttled.status_code == 429
    assert_error_shape(throttled.json(), 429)
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.headers["RateLimit-Remaining"] == "0"
    standing = (await client.get(f"/v1/leagues/{league['id']}/players/{player}")).json()
    assert standing["score"] == 3  # the throttled one changed nothing


async def test_who_may_submit(client: Client) -> None:
    league = await create_league(client)
    path = f"/v1/leagues/{league['id']}/scores"
    player, headers = await sign_in(client)
    other, _ = await sign_in(client)
    assert (await client.post(path, json={"score": 1})).status_code == 401
    assert (await client.post(path, json={"score": 1}, headers=headers)).status_code == 200
    mine = await client.post(path, json={"score": 1, "player_id": player}, headers=headers)
    assert mine.status_code == 200
    theirs = await client.post(path, json={"score": 1, "player_id": other}, headers=headers)
    assert theirs.status_code == 403
    nobody = await client.post(path, json={"score": 1}, headers=ADMIN)
    assert nobody.status_code == 400
    assert nobody.json()["field"] == "player_id"
    unknown = await client.post(
        path, json={"score": 1, "player_id": str(uuid.uuid4())}, headers=ADMIN
    )
    assert unknown.status_code == 404
    for bad in ({"score": 1.0}, {"score": "1"}, {"score": 2**53}, {"score": 1, "extra": 1}):
        response = await client.post(path, json=bad, headers=headers)
        assert response.status_code == 400, (bad, response.text)
        assert_error_shape(response.json(), 400)
    assert (
        await client.post("/v1/leagues/nope-nope/scores", json={"score": 1}, headers=headers)
    ).status_code == 404
    board = f"b-{uuid.uuid4().hex[:8]}"
    assert (
        await client.post("/v1/leaderboards", json={"id": board}, headers=ADMIN)
    ).status_code == 201
    for leaderboards, status in (([board], 403), (None, 200)):
        made = await client.post(
            "/v1/server-keys", json={"name": "game", "leaderboards": leaderboards}, headers=ADMIN
        )
        key = {"Authorization": f"Bearer {made.json()['key']}"}
        response = await client.post(path, json={"score": 1, "player_id": other}, headers=key)
        assert response.status_code == status, response.text
    assert (
        await client.post(f"/v1/players/{other}/ban", json={}, headers=ADMIN)
    ).status_code == 204
    banned = await client.post(path, json={"score": 1, "player_id": other}, headers=ADMIN)
    assert banned.status_code == 403
    audit = (await client.get("/v1/audit?limit=10", headers=ADMIN)).json()["entries"]
    assert any(
        e["action"] == "score.submit" and e["target"] == f"league:{league['id']}/player:{other}"
        for e in audit
    )


async def test_a_deleted_player_leaves_their_cohort(client: Client, database_url: str) -> None:
    league = await create_league(client)
    (a, _), (b, _) = await insert_players(database_url, 2)
    await submit(client, league["id"], a, 10)
    await submit(client, league["id"], b, 20)
    assert (await client.delete(f"/v1/players/{b}", headers=ADMIN)).status_code == 204
    page = await cohort(client, league["id"], "1-1-1")
    assert [(e["player_id"], e["rank"]) for e in page["entries"]] == [(a, 1)]


async def test_a_lost_cohort_index_is_filled_again_from_postgres(
    client: Client, database_url: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    league = await create_league(client, cohort_size=5)
    a, b, c = (p for p, _ in await insert_players(database_url, 3))
    for player, score in ((a, 10), (b, 20), (c, 30)):
        await submit(client, league["id"], player, score)
    keys = Keys(redis_key_prefix).cohort(league["id"], 1, "1-1-1")

    async def lose_it() -> None:  # as a Redis restart without persistence, or an eviction
        for key in (keys.scores, keys.members, keys.ready):
            await redis.delete(key)

    await lose_it()
    page = await cohort(client, league["id"], "1-1-1")
    assert [(e["player_id"], e["rank"], e["zone"]) for e in page["entries"]] == [
        (c, 1, "promote"),
        (b, 2, "promote"),
        (a, 3, "stay"),
    ]
    await lose_it()
    answer = await submit(client, league["id"], a, 25)  # 35: first, found by a write
    assert (answer["rank"], answer["score"], answer["zone"]) == (1, 35, "promote")
    assert answer["previous_rank"] is None  # the refilled index held it already
    page = await cohort(client, league["id"], "1-1-1")
    assert [e["player_id"] for e in page["entries"]] == [a, c, b]
    assert await redis.ttl(keys.scores) > 0  # league keys expire (a week after the season)
    # Torn: the members hash lost, the sorted set kept (an eviction takes one key): a
    # write must not add the player twice; the cohort is filled again instead.
    await redis.delete(keys.members)
    answer = await submit(client, league["id"], b, 100)  # b: 120
    assert (answer["rank"], answer["members"]) == (1, 3)
    page = await cohort(client, league["id"], "1-1-1")
    assert [(e["player_id"], e["score"]) for e in page["entries"]] == [(b, 120), (a, 35), (c, 30)]
