"""Events over WebSocket and SSE through a real `leaderboard serve`, and `leaderboard watch`."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from leaderboard.events.delivery import Delivery
from leaderboard.events.hub import EventHub
from leaderboard.events.models import Envelope, EventsDropped, RankChanged, stream_id_key
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import create_redis
from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedValkey
from tests.conftest import CLUSTER, SINGLE, TEST_ADMIN_TOKEN
from tests.helpers import async_wait_until
from tests.procs import RunningService, clean_env, running_service, service_env, start_cli
from tests.streams_helpers import SseReader

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


def server_env(
    database_url: str, redis_url: str, prefix: str, tmp_path: Path, redis_mode: str = SINGLE
) -> dict[str, str]:
    return service_env(
        tmp_path,
        database_url,
        redis_url,
        prefix,
        LEADERBOARD_REDIS_TIMEOUT="0.5",
        LEADERBOARD_REDIS_CLUSTER="1" if redis_mode == CLUSTER else "0",
    )


@pytest.fixture
def server(
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    redis_mode: str,
    redis_key_prefix: str,
    redis: Any,
) -> Iterator[RunningService]:
    env = server_env(database_url, redis_url, redis_key_prefix, tmp_path, redis_mode)
    with running_service(tmp_path, env) as service:
        yield service


@pytest.fixture
async def api(server: RunningService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as client:
        yield client


async def new_board(api: httpx.AsyncClient, overtake_events: int = 0) -> str:
    board_id = f"w-{uuid.uuid4().hex[:12]}"
    response = await api.post(
        "/v1/leaderboards",
        # rank_changed alone unless asked (test_overtaken.py has the overtaken events)
        json={
            "id": board_id,
            "rate_limit": {"limit": 1000, "window_seconds": 60},
            "overtake_events": overtake_events,
        },
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    return board_id


async def new_player(api: httpx.AsyncClient) -> str:
    response = await api.post("/v1/auth/device", json={"device_id": f"device-{uuid.uuid4()}"})
    assert response.status_code == 200, response.text
    player_id: str = response.json()["player_id"]
    return player_id


async def submit(api: httpx.AsyncClient, board: str, player: str, score: int) -> None:
    response = await api.post(
        f"/v1/leaderboards/{board}/scores",
        json={"score": score, "player_id": player},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text


@pytest.mark.redis_modes
async def test_websocket_delivers_every_change(
    server: RunningService, api: httpx.AsyncClient
) -> None:
    board = await new_board(api)
    alice, bob = await new_player(api), await new_player(api)
    async with connect(f"{server.ws_base}/v1/leaderboards/{board}/ws") as socket:
        assert msgspec.json.decode(await socket.recv()) == {"type": "subscribed"}
        await submit(api, board, alice, 10)
        await submit(api, board, bob, 20)
        await submit(api, board, alice, 5)  # unchanged (best): no event
        await submit(api, board, alice, 30)
        received = [
            msgspec.json.decode(await asyncio.wait_for(socket.recv(), 5), type=RankChanged)
            for _ in range(3)
        ]
    assert [(e.player_id, e.score, e.rank, e.previous_rank) for e in received] == [
        (alice, 10, 1, None),
        (bob, 20, 1, None),
        (alice, 30, 1, 2),
    ]


async def test_websocket_on_an_unknown_board_is_closed(server: RunningService) -> None:
    async with connect(f"{server.ws_base}/v1/leaderboards/nope-nope/ws") as socket:
        with pytest.raises(Exception, match="4404"):
            await asyncio.wait_for(socket.recv(), 5)


@pytest.mark.redis_modes
async def test_sse_resumes_from_last_event_id(
    server: RunningService, api: httpx.AsyncClient
) -> None:
    board = await new_board(api)
    players = [await new_player(api) for _ in range(3)]
    url = f"{server.base}/v1/leaderboards/{board}/events"
    async with httpx.AsyncClient(timeout=10) as sse, sse.stream("GET", url) as response:
        assert response.status_code == 200
        reader = SseReader(response)
        assert (await reader.next())["comment"] == "subscribed"
        for i, player in enumerate(players):
            await submit(api, board, player, (i + 1) * 100)
        first = await reader.next_event()
        assert first["event"] == "rank_changed"
        first_id = first["id"]
    # Disconnected after the first; the other two happened meanwhile (already published).
    headers = {"Last-Event-ID": first_id}
    async with (
        httpx.AsyncClient(timeout=10) as sse,
        sse.stream("GET", url, headers=headers) as response,
    ):
        reader = SseReader(response)
        assert (await reader.next())["comment"] == "subscribed"
        missed = [await reader.next_event() for _ in range(2)]
        assert [msgspec.json.decode(m["data"], type=RankChanged).score for m in missed] == [
            200,
            300,
        ]
        assert all(m["id"] > first_id for m in missed)
        await submit(api, board, players[0], 1000)
        live = msgspec.json.decode((await reader.next_event())["data"], type=RankChanged)
        assert (live.player_id, live.score, live.rank) == (players[0], 1000, 1)


@pytest.mark.redis_modes
async def test_websocket_resumes_from_last_event_id(
    server: RunningService, api: httpx.AsyncClient
) -> None:
    """A browser's WebSocket sends no headers: `?last_event_id=` resumes it instead."""
    board = await new_board(api)
    players = [await new_player(api) for _ in range(3)]
    url = f"{server.ws_base}/v1/leaderboards/{board}/ws"
    async with connect(url) as socket:
        assert msgspec.json.decode(await socket.recv()) == {"type": "subscribed"}
        for i, player in enumerate(players):
            await submit(api, board, player, (i + 1) * 100)
        first = msgspec.json.decode(await asyncio.wait_for(socket.recv(), 5), type=RankChanged)
    assert first.id is not None
    # Gone after the first event; the other two were published meanwhile.
    async with connect(f"{url}?last_event_id={first.id}") as socket:
        assert msgspec.json.decode(await socket.recv()) == {"type": "subscribed"}
        missed = [
            msgspec.json.decode(await asyncio.wait_for(socket.recv(), 5), type=RankChanged)
            for _ in range(2)
        ]
        assert [e.score for e in missed] == [200, 300]
        await submit(api, board, players[0], 1000)
        live = msgspec.json.decode(await asyncio.wait_for(socket.recv(), 5), type=RankChanged)
    assert (live.player_id, live.score, live.rank) == (players[0], 1000, 1)
    ids = [str(e.id) for e in (first, *missed, live)]
    assert ids == sorted(set(ids), key=stream_id_key)  # in order, none twice


async def test_a_websocket_with_a_bad_resume_id_is_closed(
    server: RunningService, api: httpx.AsyncClient
) -> None:
    board = await new_board(api)
    for bad in ("x", "99999999999999999999-0"):  # not an id; an id Redis refuses
        async with connect(f"{server.ws_base}/v1/leaderboards/{board}/ws?last_event_id={bad}") as s:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(s.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4400, bad
        assert "last_event_id" in closed.value.rcvd.reason


@pytest.mark.redis_modes
async def test_sse_filters_by_player(server: RunningService, api: httpx.AsyncClient) -> None:
    board = await new_board(api)
    alice, bob = await new_player(api), await new_player(api)
    url = f"{server.base}/v1/leaderboards/{board}/events?player_id={bob}"
    async with httpx.AsyncClient(timeout=10) as sse, sse.stream("GET", url) as response:
        reader = SseReader(response)
        await reader.next()
        await submit(api, board, alice, 1)
        await submit(api, board, bob, 2)
        event = msgspec.json.decode((await reader.next_event())["data"], type=RankChanged)
        assert event.player_id == bob


async def test_a_player_hears_that_they_were_overtaken(
    server: RunningService, api: httpx.AsyncClient
) -> None:
    """``?player_id=`` keeps every event about that player: here the overtaken event."""
    board = await new_board(api, overtake_events=10)
    alice, bob = await new_player(api), await new_player(api)
    await submit(api, board, alice, 50)
    url = f"{server.base}/v1/leaderboards/{board}/events?player_id={alice}"
    async with httpx.AsyncClient(timeout=10) as sse, sse.stream("GET", url) as response:
        reader = SseReader(response)
        await reader.next()
        await submit(api, board, bob, 60)  # bob passes alice
        block = await reader.next_event()
    assert block["event"] == "overtaken"
    event = msgspec.json.decode(block["data"])
    assert (event["player_id"], event["by"], event["rank"], event["previous_rank"]) == (
        alice, bob, 2, 1
    )  # fmt: skip
    assert block["id"] == event["id"]


async def test_bad_resume_ids_and_unknown_boards(
    server: RunningService, api: httpx.AsyncClient
) -> None:
    board = await new_board(api)
    bad = await api.get(f"/v1/leaderboards/{board}/events", headers={"Last-Event-ID": "x; y"})
    assert bad.status_code == 400
    assert "Last-Event-ID" in bad.json()["detail"]
    assert (await api.get("/v1/leaderboards/nope-nope/events")).status_code == 404


async def test_a_slow_client_loses_its_oldest_events_not_our_memory() -> None:
    settings = Settings(redis_url="redis://127.0.0.1:1/0", events_client_backlog=5)
    nowhere = create_redis(settings, "redis://127.0.0.1:1/0")

    async def any_board(_: str) -> None:
        return None

    hub = EventHub(settings, Keys(), nowhere, any_board)
    subscription = hub.subscribe(hub.board("b"))
    try:
        for i in range(1000):
            event = RankChanged(
                leaderboard="b",
                span="never",
                period=None,
                player_id="p",
                score=i,
                previous_score=None,
                rank=1,
                previous_rank=None,
                at="2026-01-01T00:00:00Z",  # type: ignore[arg-type]
                id=f"1-{i}",
            )
            subscription.push(msgspec.json.encode(event).decode())
        assert subscription.pending == 5
        delivery = Delivery(subscription, None)
        _, notice = await delivery.next()
        assert isinstance(notice, EventsDropped)
        assert notice.dropped == 995
        scores = []
        for _ in range(5):
            message, delivered = await delivery.next()
            assert isinstance(delivered, Envelope)
            assert delivered.type == "rank_changed"
            scores.append(msgspec.json.decode(message, type=RankChanged).score)
        assert scores == [995, 996, 997, 998, 999]
    finally:
        subscription.close()
        await hub.close()
        await nowhere.aclose()


async def test_events_flow_again_after_redis_restarts(
    tmp_path: Path, database_url: str, own_valkey: EmbeddedValkey
) -> None:
    env = server_env(database_url, own_valkey.url, "", tmp_path)
    with running_service(tmp_path, env) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as api:
            board = await new_board(api)
            player = await new_player(api)
            url = f"{server.base}/v1/leaderboards/{board}/events"
            async with httpx.AsyncClient(timeout=10) as sse, sse.stream("GET", url) as response:
                reader = SseReader(response)
                await reader.next()
                await submit(api, board, player, 1)
                assert (await reader.next_event())["event"] == "rank_changed"

                own_valkey.stop()
                own_valkey.start()  # same port and append-only file
                back = asyncio.get_running_loop().time()

                async def accepted() -> bool:  # the first may meet the reconnecting client
                    response_ = await api.post(
                        f"/v1/leaderboards/{board}/scores",
                        json={"score": 1000, "player_id": player},
                        headers=ADMIN,
                    )
                    return response_.status_code == 200

                await async_wait_until(accepted, 15, "a submission after the restart")
                event = await reader.next_event(timeout=5)
                took = asyncio.get_running_loop().time() - back
                assert msgspec.json.decode(event["data"], type=RankChanged).score == 1000
                assert took < 5, f"events resumed {took:.1f} s after Redis came back"


@pytest.mark.redis_modes
async def test_watch_prints_json_lines(
    server: RunningService,
    api: httpx.AsyncClient,
    database_url: str,
    redis_url: str,
    redis_mode: str,
    redis_key_prefix: str,
    tmp_path: Path,
) -> None:
    board = await new_board(api)
    player = await new_player(api)
    await submit(api, board, player, 7)  # before watch starts: only --from-start shows it
    env = server_env(database_url, redis_url, redis_key_prefix, tmp_path, redis_mode)
    watcher = start_cli(["watch", board, "--from-start"], clean_env(**env), tmp_path)
    try:
        assert watcher.stdout is not None
        first = await asyncio.wait_for(asyncio.to_thread(watcher.stdout.readline), 15)
        assert msgspec.json.decode(first, type=RankChanged).score == 7
        await submit(api, board, player, 8)
        second = await asyncio.wait_for(asyncio.to_thread(watcher.stdout.readline), 15)
        event = msgspec.json.decode(second, type=RankChanged)
        assert (event.player_id, event.score, event.previous_score) == (player, 8, 7)
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.communicate(timeout=15)
    assert watcher.returncode == 0
