"""What players look at: friends, the board's shape, name search, windows and attempts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.lib.clock import MovableClock
from tests.calendar import at
from tests.helpers import sign_in
from tests.scores_helpers import create_board, insert_players, post_score

pytestmark = pytest.mark.redis_modes
Client = AsyncTestClient[Litestar]


# -- friends -------------------------------------------------------------------------


async def test_friends_come_best_first_with_their_ranks_on_the_whole_board(
    client: Client, database_url: str
) -> None:
    board_id = await create_board(client)
    players = [player for player, _ in await insert_players(database_url, 6)]
    for i, player in enumerate(players):
        assert (await post_score(client, board_id, player, 10 * (i + 1))).is_success
    stranger = str(uuid.uuid4())  # no such player: left out
    friends = [players[0], players[4], stranger, players[2], players[4]]
    response = await client.get(
        f"/v1/leaderboards/{board_id}/players", params={"ids": ",".join(friends)}
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 6
    assert [(e["rank"], e["player_id"], e["score"]) for e in page["entries"]] == [
        (2, players[4], 50),
        (4, players[2], 30),
        (6, players[0], 10),
    ]
    assert all(e["display_name"].startswith("P-") for e in page["entries"])


@pytest.mark.parametrize(
    "params",
    [
        {"ids": "not-a-uuid"},
        {"ids": ""},
        {"ids": ",".join(str(uuid.uuid4()) for _ in range(101))},
        {},
        {"ids": str(uuid.uuid4()), "name": "a"},
    ],
    ids=["malformed", "empty", "too-many", "neither", "both"],
)
async def test_a_bad_friends_list_is_400(client: Client, params: dict[str, str]) -> None:
    board_id = await create_board(client)
    response = await client.get(f"/v1/leaderboards/{board_id}/players", params=params)
    assert response.status_code == 400, response.text
    assert "ids" in response.json()["detail"]


# -- name search ---------------------------------------------------------------------


async def test_players_are_found_by_the_start_of_their_name(client: Client) -> None:
    board_id = await create_board(client)
    names = ["Swift Fox", "swift otter", "Brave Swift", "100%_sure"]
    ids = {}
    for i, name in enumerate(names):
        player, _ = await sign_in(client, display_name=name)
        ids[name] = player
        await post_score(client, board_id, player, i)
    unranked, _ = await sign_in(client, display_name="Swift Unranked")  # no entry: left out

    async def found(prefix: str) -> list[str]:
        response = await client.get(f"/v1/leaderboards/{board_id}/players", params={"name": prefix})
        assert response.status_code == 200, response.text
        return [e["display_name"] for e in response.json()["entries"]]

    assert await found("swift") == ["swift otter", "Swift Fox"], "any case, best first"
    assert await found("100%_") == ["100%_sure"]
    assert await found("1%") == [], "wildcards are plain characters"
    assert await found("zzz") == []
    limited = await client.get(
        f"/v1/leaderboards/{board_id}/players", params={"name": "s", "limit": 1}
    )
    assert len(limited.json()["entries"]) == 1
    assert unranked not in ids.values()


# -- histogram -----------------------------------------------------------------------


@pytest.mark.parametrize("order", ["desc", "asc"])
async def test_the_histogram_counts_every_entry_once(
    client: Client, database_url: str, order: str
) -> None:
    board_id = await create_board(client, order=order)
    values = [0, 1, 5, 9, 10, 10, 33, 99]
    players = [player for player, _ in await insert_players(database_url, len(values))]
    for player, value in zip(players, values, strict=True):
        await post_score(client, board_id, player, value)
    response = await client.get(f"/v1/leaderboards/{board_id}/histogram", params={"buckets": 10})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(values)
    buckets = page["buckets"]
    assert sum(b["count"] for b in buckets) == len(values)
    assert buckets[0]["from"] == 0
    assert buckets[-1]["to"] == 99
    widths = {b["to"] - b["from"] + 1 for b in buckets}
    assert widths == {10}
    for bucket in buckets:
        inside = [v for v in values if bucket["from"] <= v <= bucket["to"]]
        assert bucket["count"] == len(inside), bucket
    # 100 points in 7 buckets: 15 wide, the last one cut at the highest score.
    uneven = (await client.get(f"/v1/leaderboards/{board_id}/histogram?buckets=7")).json()
    bounds = [(b["from"], b["to"]) for b in uneven["buckets"]]
    assert bounds == [(0, 14), (15, 29), (30, 44), (45, 59), (60, 74), (75, 89), (90, 99)]
    assert sum(b["count"] for b in uneven["buckets"]) == len(values)


async def test_histogram_edges(client: Client, database_url: str) -> None:
    board_id = await create_board(client)
    empty = (await client.get(f"/v1/leaderboards/{board_id}/histogram")).json()
    assert (empty["total"], empty["buckets"]) == (0, [])
    (player, _), (other, _) = await insert_players(database_url, 2)
    await post_score(client, board_id, player, -7)
    await post_score(client, board_id, other, -7)
    one_value = (await client.get(f"/v1/leaderboards/{board_id}/histogram?buckets=100")).json()
    assert one_value["buckets"] == [{"from": -7, "to": -7, "count": 2}]
    for bad in ("0", "101", "x"):
        response = await client.get(f"/v1/leaderboards/{board_id}/histogram?buckets={bad}")
        assert response.status_code == 400


# -- windows and attempts ------------------------------------------------------------


@pytest.mark.calendar
async def test_a_board_window_opens_and_closes_on_the_second(
    client: Client, clock: MovableClock, calendar_day: date
) -> None:
    # Boards whose window edge is the coming midnight, tried two seconds before and after.
    midnight = at(calendar_day + timedelta(days=1))
    clock.set(midnight - timedelta(seconds=2))
    opening = await create_board(client, starts_at=midnight.isoformat())
    closing = await create_board(client, ends_at=midnight.isoformat())
    running = await create_board(
        client,
        starts_at=(midnight - timedelta(days=1)).isoformat(),
        ends_at=(midnight + timedelta(days=1)).isoformat(),
    )
    player, _ = await sign_in(client)

    async def open_now(board_id: str) -> bool:
        board = (await client.get(f"/v1/leaderboards/{board_id}")).json()
        response = await post_score(client, board_id, player, 1)
        assert response.status_code == (200 if board["open"] else 409), response.text
        if not board["open"]:
            assert "not open" in response.json()["detail"]
        assert (await client.get(f"/v1/leaderboards/{board_id}/top")).status_code == 200
        return bool(board["open"])

    assert [await open_now(b) for b in (opening, closing, running)] == [False, True, True]
    clock.advance(timedelta(seconds=4))
    assert [await open_now(b) for b in (opening, closing, running)] == [True, False, True]


async def test_max_submissions_is_exact_under_concurrency(
    live: httpx.AsyncClient, database_url: str
) -> None:
    board_id = await create_board(live, operator="sum", max_submissions=5)
    ((player, _),) = await insert_players(database_url, 1)
    answers = await asyncio.gather(*(post_score(live, board_id, player, 1) for _ in range(20)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * 5 + [409] * 15, statuses
    entry = (await live.get(f"/v1/leaderboards/{board_id}/players/{player}")).json()
    assert entry["score"] == 5
    refused = next(a for a in answers if a.status_code == 409)
    assert "max_submissions" in refused.json()["detail"]
