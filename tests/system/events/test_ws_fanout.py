"""Many WebSocket subscribers on one board: every event reaches every one, once, in order.

With compression off (the default) the events are framed once and written by the hub to
every caught-up subscriber (lib/ws_frames.py); with LEADERBOARD_WS_COMPRESSION=1 a client
that offers permessage-deflate gets it, and its events go through the protocol as before.
A burst of concurrent submissions makes the writes of one loop turn leave together.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect

from leaderboard.events.models import Envelope
from tests.conftest import TEST_ADMIN_TOKEN
from tests.procs import RunningService, running_service, service_env

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
SUBSCRIBERS = 40
SUBMISSIONS = 60


@pytest.fixture(params=["plain", "deflate"])
def server(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    database_url: str,
    redis_server_url: str,
    redis_key_prefix: str,
) -> Iterator[tuple[RunningService, str]]:
    compression = "1" if request.param == "deflate" else "0"
    env = service_env(
        tmp_path,
        database_url,
        redis_server_url,
        redis_key_prefix,
        LEADERBOARD_WS_COMPRESSION=compression,
        LEADERBOARD_EVENTS_MAX_STREAMS_PER_CLIENT="1000",
    )
    with running_service(tmp_path, env) as service:
        yield service, request.param


async def events_of(socket: ClientConnection, count: int) -> list[Envelope]:
    received: list[Envelope] = []
    try:
        async with asyncio.timeout(30):
            while len(received) < count:
                event = msgspec.json.decode(await socket.recv(), type=Envelope)
                if event.type == "rank_changed":
                    received.append(event)
    except TimeoutError:
        raise AssertionError(f"{len(received)} of {count} events: {received[-3:]}") from None
    return received


async def test_every_subscriber_gets_every_event_once_in_order(
    server: tuple[RunningService, str],
) -> None:
    service, mode = server
    async with httpx.AsyncClient(base_url=service.base, timeout=30, headers=ADMIN) as api:
        board = f"fan-{uuid.uuid4().hex[:10]}"
        created = await api.post(
            "/v1/leaderboards",
            json={"id": board, "overtake_events": 0, "rate_limit": {"limit": 1000}},
        )
        assert created.status_code == 201, created.text
        # A player each: concurrent changes of one player may reach the index out of order,
        # where the older is refused (and announces nothing); this counts every event.
        made = await asyncio.gather(*(api.post("/v1/players", json={}) for _ in range(SUBMISSIONS)))
        players = [response.json()["player_id"] for response in made]
        url = f"{service.ws_base}/v1/leaderboards/{board}/ws"
        offer = "deflate" if mode == "deflate" else None
        sockets = [await connect(url, compression=offer) for _ in range(SUBSCRIBERS)]
        try:
            for socket in sockets:
                assert msgspec.json.decode(await socket.recv()) == {"type": "subscribed"}
            handshake = sockets[0].response
            assert handshake is not None
            extensions = handshake.headers.get("Sec-WebSocket-Extensions", "")
            assert ("permessage-deflate" in extensions) == (mode == "deflate")

            async def submit(n: int) -> None:
                sent = await api.post(
                    f"/v1/leaderboards/{board}/scores",
                    json={"score": 1000 + n, "player_id": players[n]},
                )
                assert sent.status_code == 200, sent.text

            await asyncio.gather(*(submit(n) for n in range(SUBMISSIONS)))
            received = await asyncio.gather(*(events_of(s, SUBMISSIONS) for s in sockets))
        finally:
            await asyncio.gather(*(s.close() for s in sockets))
    ids = [event.id for event in received[0]]
    assert len(set(ids)) == SUBMISSIONS, "each event once"
    assert ids == sorted(ids, key=lambda i: tuple(int(p) for p in (i or "0-0").split("-")))
    for events in received:
        assert [event.id for event in events] == ids, "the same events, in the same order"
