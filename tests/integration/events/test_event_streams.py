"""The life of an SSE or WebSocket stream, against the app served by a real uvicorn.

The server runs in the test's event loop (so the test can reach the worker's hub) with
the service's HTTP protocol class (leaderboard/lib/http_limits.py), over the test
session's Postgres and Redis. Clients are raw sockets where the moment a client leaves
matters, websockets/httpx elsewhere. ``leaderboard_event_subscribers`` is read from the
process' registry, relative to its value before the test (other apps share it).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import msgspec
import pytest

from leaderboard.events.hub import EventHub
from leaderboard.events.models import RankChanged
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedValkey
from tests.helpers import async_wait_until
from tests.streams_helpers import (
    Served,
    open_raw_websocket,
    send_head,
    serving,
    subscribers_gauge,
)


@pytest.fixture
async def served(settings: Settings, redis: AnyRedis) -> AsyncIterator[Served]:
    # No cap in the way: these tests drop many streams from one address at once.
    uncapped = msgspec.structs.replace(settings, events_max_streams_per_client=10_000)
    async with serving(uncapped) as served:
        yield served


async def back_to(baseline: float, hub: EventHub, what: str) -> float:
    """Seconds until the gauge is back at ``baseline`` and 127.0.0.1 holds no streams."""

    async def released() -> bool:
        return subscribers_gauge() == baseline and hub.streams_held("127.0.0.1") == 0

    return await async_wait_until(released, 5, what)


async def fill_stream(redis: AnyRedis, prefix: str, board: str, count: int) -> None:
    """Events in the board's stream, as the score script leaves them (without ``id``)."""
    pipe = redis.pipeline()
    for i in range(count):
        event = RankChanged(
            leaderboard=board,
            span="never",
            period=None,
            player_id=str(uuid.uuid4()),
            score=i,
            previous_score=None,
            rank=1,
            previous_rank=None,
            at="2026-11-25T20:12:43.120000Z",  # type: ignore[arg-type]
        )
        encoded = msgspec.json.encode(event).decode().replace(',"id":null', "")
        pipe.xadd(Keys(prefix).events_stream(board), {"event": encoded})
    await pipe.execute()


async def leave_after_head(reader: Any, writer: Any) -> None:
    writer.close()


async def leave_after_response_head(reader: Any, writer: Any) -> None:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 200"), head
    writer.close()


async def leave_after_subscribed(reader: Any, writer: Any) -> None:
    await asyncio.wait_for(reader.readuntil(b": subscribed"), 5)
    writer.close()


async def reset_after_head(reader: Any, writer: Any) -> None:
    writer.transport.abort()  # RST, not FIN


Leave = Callable[[Any, Any], Awaitable[None]]


@pytest.mark.parametrize(
    "leave",
    [leave_after_head, leave_after_response_head, leave_after_subscribed, reset_after_head],
)
@pytest.mark.parametrize("resuming", [False, True], ids=["live", "catching-up"])
async def test_an_sse_client_leaving_at_any_moment_is_released(
    served: Served,
    redis: AnyRedis,
    redis_key_prefix: str,
    leave: Leave,
    resuming: bool,
) -> None:
    board = await served.new_board()
    headers = ""
    if resuming:
        # 300 missed events: a client leaving early leaves in the middle of the catch-up.
        await fill_stream(redis, redis_key_prefix, board, 300)
        headers = "Last-Event-ID: 0-0\r\n"
    baseline = subscribers_gauge()
    path = f"/v1/leaderboards/{board}/events"

    async def one() -> None:
        reader, writer = await send_head(served.port, path, headers)
        await leave(reader, writer)

    for _ in range(5):
        await asyncio.gather(*(one() for _ in range(10)))
    took = await back_to(baseline, served.hub, "every dropped SSE client to be released")
    assert took < 5


async def test_a_websocket_client_that_vanishes_is_released_at_once(served: Served) -> None:
    board = await served.new_board()
    baseline = subscribers_gauge()
    _, fin = await open_raw_websocket(served.port, f"/v1/leaderboards/{board}/ws")
    _, rst = await open_raw_websocket(served.port, f"/v1/leaderboards/{board}/ws")
    assert subscribers_gauge() == baseline + 2
    fin.close()  # the socket closes without a close frame
    rst.transport.abort()
    # Noticed by the reader at once, not at the next heartbeat (15 s).
    took = await back_to(baseline, served.hub, "the vanished WebSocket clients to be released")
    assert took < 1


async def test_a_redis_error_during_the_catch_up_releases_the_stream(
    settings: Settings, own_valkey: EmbeddedValkey
) -> None:
    own = msgspec.structs.replace(settings, redis_url=own_valkey.url, redis_timeout=0.5)
    async with serving(own) as served:
        board = await served.new_board()
        baseline = subscribers_gauge()
        own_valkey.stop()
        # The board is found in Postgres; the stream is opened; reading the missed events
        # from Redis fails: the client gets a 503 and the stream is given back.
        async with httpx.AsyncClient(base_url=served.base, timeout=10) as api:
            response = await api.get(
                f"/v1/leaderboards/{board}/events", headers={"Last-Event-ID": "1-0"}
            )
        assert response.status_code == 503, response.text
        assert response.json()["dependency"] == "redis"
        await back_to(baseline, served.hub, "the stream to be released")
        own_valkey.start()


async def test_a_bad_resume_id_releases_the_stream(served: Served) -> None:
    board = await served.new_board()
    baseline = subscribers_gauge()
    async with httpx.AsyncClient(base_url=served.base, timeout=10) as api:
        # Matches the id pattern, but Redis refuses it (beyond 64 bits): 400 from XRANGE.
        response = await api.get(
            f"/v1/leaderboards/{board}/events",
            headers={"Last-Event-ID": "99999999999999999999-0"},
        )
    assert response.status_code == 400
    await back_to(baseline, served.hub, "the stream to be released")
