"""A player's history: their rank in each period, final once the period ended.

Days are filled through the API on a clock the test moves; the retention job freezes the
ended periods (ranking/results.py); moderation after the end freezes a period again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any, cast

import asyncpg
import httpx
import pytest
from litestar import Litestar

from leaderboard.lib.clock import MovableClock
from leaderboard.lib.settings import Settings
from leaderboard.scores.retention import RetentionJob
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import ADMIN, running
from tests.scores_helpers import create_board, insert_players, submit


class World:
    def __init__(self, http: httpx.AsyncClient, app: Litestar, clock: MovableClock) -> None:
        self.http, self.app, self.clock = http, app, clock

    async def freeze(self) -> list[tuple[str, date]]:
        job = self.app.plugins.get(InfrastructurePlugin).services.get(RetentionJob)
        report = await job.run_once()
        assert report.leased
        return report.frozen

    async def history(self, board_id: str, player_id: str, **params: Any) -> dict[str, Any]:
        response = await self.http.get(
            f"/v1/leaderboards/{board_id}/players/{player_id}/history", params=params
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def world(settings: Settings, clock: MovableClock) -> AsyncIterator[World]:
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=cast("Any", app))
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http,
    ):
        yield World(http, app, clock)


async def three_days(world: World, database_url: str, **spec: Any) -> tuple[str, list[str], date]:
    """A daily board: on days 0-2 players 0-3 score; player 0 ranks 3rd, 1st, 2nd.

    Returns the board, the players and day 0.
    """
    board_id = await create_board(world.http, reset="daily", **spec)
    players = [p for p, _ in await insert_players(database_url, 4)]
    day0 = world.clock().date()
    days = [
        [30, 50, 40, 10],  # player 0 third
        [90, 50, 40, 10],  # first
        [45, 50, 40, 10],  # second
    ]
    for n, scores in enumerate(days):
        world.clock.set(world.clock() + timedelta(days=1) * (n > 0))
        for player, score in zip(players, scores, strict=True):
            await submit(world.http, board_id, player, score)
    return board_id, players, day0


def standings(history: dict[str, Any]) -> list[tuple[str | None, int, int, int]]:
    return [(p["period"], p["score"], p["rank"], p["total"]) for p in history["periods"]]


async def test_history_is_newest_first_live_then_frozen(world: World, database_url: str) -> None:
    board_id, players, day0 = await three_days(world, database_url)
    days = [(day0 + timedelta(days=n)).isoformat() for n in range(3)]
    expected = [(days[2], 45, 2, 4), (days[1], 90, 1, 4), (days[0], 30, 3, 4)]
    # Not frozen yet: the ended periods are read from their indexes.
    before = await world.history(board_id, players[0])
    assert (before["leaderboard"], before["span"], before["player_id"]) == (
        board_id, "daily", players[0]
    )  # fmt: skip
    assert standings(before) == expected
    assert before["best"] == {"period": days[1], "rank": 1}
    assert before["periods"][2]["percentile"] == round(100 * 1 / 3, 2)
    frozen = await world.freeze()
    assert sorted(p for b, p in frozen if b == board_id) == [day0, day0 + timedelta(days=1)]
    assert [p for b, p in await world.freeze() if b == board_id] == [], "frozen once"
    after = await world.history(board_id, players[0])
    assert after == before
    limited = await world.history(board_id, players[0], limit=1)
    assert standings(limited) == expected[:1]
    assert limited["best"] == {"period": days[1], "rank": 1}, "best of every period"
    # The current period is live: a better score there shows at once.
    await submit(world.http, board_id, players[0], 99)
    now = await world.history(board_id, players[0], limit=1)
    assert standings(now) == [(days[2], 99, 1, 4)]
    assert now["best"] == {"period": days[2], "rank": 1}, "the newest of equal ranks"


async def test_moderation_after_the_end_changes_final_ranks(
    world: World, database_url: str
) -> None:
    board_id, players, day0 = await three_days(world, database_url, ranks="competition")
    await world.freeze()
    first_day = day0.isoformat()
    # Day 0: 50, 40, 30 (player 0), 10. Removing player 1's entry of day 0 moves them up.
    response = await world.http.delete(
        f"/v1/leaderboards/{board_id}/players/{players[1]}",
        params={"period": first_day},
        headers=ADMIN,
    )
    assert response.status_code == 204, response.text
    history = await world.history(board_id, players[0])
    assert standings(history)[-1] == (first_day, 30, 2, 3)
    # A ban takes the player out of every frozen period (and out of their own history).
    response = await world.http.post(f"/v1/players/{players[2]}/ban", json={}, headers=ADMIN)
    assert response.status_code == 204, response.text
    assert standings(await world.history(board_id, players[0]))[-1] == (first_day, 30, 1, 2)
    banned = await world.history(board_id, players[2])
    assert (banned["periods"], banned["best"]) == ([], None)
    response = await world.http.delete(f"/v1/players/{players[2]}/ban", headers=ADMIN)
    assert response.status_code == 204
    assert standings(await world.history(board_id, players[0]))[-1] == (first_day, 30, 2, 3)


async def test_a_void_after_the_end_changes_final_ranks(world: World, database_url: str) -> None:
    board_id, players, day0 = await three_days(world, database_url)
    await world.freeze()
    first_day = day0.isoformat()
    # Day 0: 50 (player 1), 40, 30 (player 0), 10. Player 1's only run of day 0 is voided.
    listed = await world.http.get(
        f"/v1/leaderboards/{board_id}/players/{players[1]}/submissions",
        params={"period": first_day},
        headers=ADMIN,
    )
    assert listed.status_code == 200, listed.text
    (run,) = listed.json()["submissions"]
    response = await world.http.post(
        f"/v1/submissions/{run['id']}/void", json={"reason": "replay"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    assert standings(await world.history(board_id, players[0]))[-1] == (first_day, 30, 2, 3)
    assert standings(await world.history(board_id, players[1]))[-1][0] != first_day


async def test_competition_ranks_are_frozen_too(world: World, database_url: str) -> None:
    board_id = await create_board(world.http, reset="daily", order="asc")
    players = [p for p, _ in await insert_players(database_url, 3)]
    for player in players:
        await submit(world.http, board_id, player, 7)  # a three-way tie
    day0 = world.clock().date().isoformat()
    world.clock.set(world.clock() + timedelta(days=1))
    await world.freeze()
    for style, rank in [("ordinal", 3), ("competition", 1), ("dense", 1)]:
        history = await world.history(board_id, players[2], ranks=style)
        assert standings(history) == [(day0, 7, rank, 3)], style
    response = await world.http.get(
        f"/v1/leaderboards/{board_id}/players/{players[2]}/history", params={"ranks": "x"}
    )
    assert response.status_code == 400
    assert "ranks" in response.json()["detail"]


async def test_no_entry_unknown_board_and_bad_limits(world: World, database_url: str) -> None:
    board_id = await create_board(world.http)
    ((player, _),) = await insert_players(database_url, 1)
    empty = await world.history(board_id, player)
    assert empty == {
        "leaderboard": board_id, "span": "never", "player_id": player, "periods": [], "best": None
    }  # fmt: skip
    await submit(world.http, board_id, player, 5)
    history = await world.history(board_id, player)
    assert standings(history) == [(None, 5, 1, 1)]
    assert history["best"] == {"period": None, "rank": 1}
    missing = await world.http.get(f"/v1/leaderboards/no-such-board/players/{player}/history")
    assert missing.status_code == 404
    for limit in (0, 101):
        response = await world.http.get(
            f"/v1/leaderboards/{board_id}/players/{player}/history", params={"limit": limit}
        )
        assert response.status_code == 400, limit
        assert "limit" in response.text


async def test_a_deleted_player_leaves_the_frozen_standings(
    world: World, database_url: str
) -> None:
    board_id, players, day0 = await three_days(world, database_url)
    await world.freeze()
    response = await world.http.delete(f"/v1/players/{players[1]}", headers=ADMIN)
    assert response.status_code == 204, response.text
    assert standings(await world.history(board_id, players[0]))[-1] == (
        day0.isoformat(), 30, 2, 3
    )  # fmt: skip
    conn = await asyncpg.connect(database_url)
    try:
        left = await conn.fetchval(
            "SELECT count(*) FROM period_results WHERE player_id = $1", players[1]
        )
    finally:
        await conn.close()
    assert left == 0
