"""A league through a real `leaderboard serve --workers 2`: submissions spread over both
workers, its events over SSE and WebSocket (with ``?player_id=``), the season's end."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from websockets.asyncio.client import connect

from tests.conftest import CLUSTER, TEST_ADMIN_TOKEN
from tests.league_helpers import create_league, end_season, submit
from tests.procs import RunningService, running_service, service_env
from tests.streams_helpers import SseReader

pytestmark = [pytest.mark.slow, pytest.mark.redis_modes]
ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


@pytest.fixture
def server(
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    redis_mode: str,
    redis_key_prefix: str,
    redis: Any,
) -> Iterator[RunningService]:
    env = service_env(
        tmp_path,
        database_url,
        redis_url,
        redis_key_prefix,
        LEADERBOARD_REDIS_CLUSTER="1" if redis_mode == CLUSTER else "0",
    )
    with running_service(tmp_path, env, ("--workers", "2")) as service:
        yield service


@pytest.fixture
async def api(server: RunningService) -> AsyncIterator[httpx.AsyncClient]:
    # A new connection per request: uvicorn's workers share the socket, so requests land
    # on both of them.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.base, timeout=10, limits=limits) as client:
        yield client


async def new_player(api: httpx.AsyncClient) -> str:
    response = await api.post("/v1/auth/device", json={"device_id": f"device-{uuid.uuid4()}"})
    assert response.status_code == 200, response.text
    player_id: str = response.json()["player_id"]
    return player_id


async def test_a_players_zone_changes_and_season_end_over_sse(
    server: RunningService, api: httpx.AsyncClient
) -> None:
    league = await create_league(api, cohort_size=5)  # Bronze promotes 2
    league_id = league["id"]
    alice, bob, carol = [await new_player(api) for _ in range(3)]
    url = f"{server.base}/v1/leagues/{league_id}/events?player_id={alice}"
    async with httpx.AsyncClient(timeout=10) as sse, sse.stream("GET", url) as response:
        assert response.status_code == 200
        reader = SseReader(response)
        assert (await reader.next())["comment"] == "subscribed"
        await submit(api, league_id, alice, 10)
        await submit(api, league_id, bob, 20)  # alice stays in the promotion zone
        await submit(api, league_id, carol, 30)  # pushes alice out of it
        arrived = await reader.next_event()
        pushed = await reader.next_event()
        assert (arrived["event"], pushed["event"]) == ("zone_changed", "zone_changed")
        first, second = (msgspec.json.decode(block["data"]) for block in (arrived, pushed))
        assert (first["player_id"], first["zone"], first["previous_zone"]) == (
            alice, "promote", None
        )  # fmt: skip
        assert (second["player_id"], second["zone"], second["previous_zone"], second["rank"]) == (
            alice, "stay", "promote", 3
        )  # fmt: skip
        assert (second["league"], second["season"], second["cohort"]) == (league_id, 1, "1-1-1")
        assert second["id"] == pushed["id"]
        assert (await end_season(api, league_id)).status_code == 200
        ended = await reader.next_event()
        assert ended["event"] == "season_ended"
        event = msgspec.json.decode(ended["data"])
        assert (event["player_id"], event["tier"], event["new_tier"], event["zone"]) == (
            alice, "Bronze", "Bronze", "stay"
        )  # fmt: skip
    # Resumed from the first event: what came after it, the same again.
    headers = {"Last-Event-ID": arrived["id"]}
    async with (
        httpx.AsyncClient(timeout=10) as sse,
        sse.stream("GET", url, headers=headers) as response,
    ):
        reader = SseReader(response)
        assert (await reader.next())["comment"] == "subscribed"
        assert (await reader.next_event())["id"] == pushed["id"]
        assert (await reader.next_event())["id"] == ended["id"]


async def test_websocket_delivers_a_cohorts_zone_changes(
    server: RunningService, api: httpx.AsyncClient
) -> None:
    league = await create_league(api, cohort_size=5)
    league_id = league["id"]
    players = [await new_player(api) for _ in range(3)]
    async with connect(f"{server.ws_base}/v1/leagues/{league_id}/ws") as socket:
        assert msgspec.json.decode(await socket.recv()) == {"type": "subscribed"}
        for i, player in enumerate(players):
            await submit(api, league_id, player, 10 * (i + 1))
        received = [msgspec.json.decode(await asyncio.wait_for(socket.recv(), 5)) for _ in range(4)]
    assert [(e["type"], e["player_id"], e["zone"]) for e in received] == [
        ("zone_changed", players[0], "promote"),
        ("zone_changed", players[1], "promote"),
        ("zone_changed", players[2], "promote"),
        ("zone_changed", players[0], "stay"),
    ]


async def test_unknown_leagues_have_no_events(server: RunningService) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{server.base}/v1/leagues/nope-nope/events")
        assert response.status_code == 404
        bad = await http.get(
            f"{server.base}/v1/leagues/nope-nope/events", headers={"Last-Event-ID": "x"}
        )
        assert bad.status_code == 404
    async with connect(f"{server.ws_base}/v1/leagues/nope-nope/ws") as socket:
        with pytest.raises(Exception, match="4404"):
            await asyncio.wait_for(socket.recv(), 5)
