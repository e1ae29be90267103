"""Limits on event streams and their end, against the app served by a real uvicorn.

The per-address cap, the hub closing every stream, and a server shutdown with streams
open. Served as in test_event_streams.py (real uvicorn in this event loop, the service's
HTTP protocol class, the session's Postgres and Redis).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from tests.helpers import async_wait_until
from tests.streams_helpers import Served, serving, subscribers_gauge


@pytest.fixture
async def served(settings: Settings, redis: AnyRedis) -> AsyncIterator[Served]:
    async with serving(settings) as served:
        yield served


async def test_streams_per_client_address_are_capped(settings: Settings, redis: AnyRedis) -> None:
    capped = msgspec.structs.replace(settings, events_max_streams_per_client=3)
    async with serving(capped) as served, httpx.AsyncClient(timeout=10) as http:
        board = await served.new_board()
        url = f"{served.base}/v1/leaderboards/{board}/events"
        first = await http.send(http.build_request("GET", url), stream=True)
        second = await http.send(http.build_request("GET", url), stream=True)
        async with connect(f"{served.ws_base}/v1/leaderboards/{board}/ws") as socket:
            await socket.recv()
            assert served.hub.streams_held("127.0.0.1") == 3

            refused = await http.get(url)
            assert refused.status_code == 429
            body = refused.json()
            assert body["status_code"] == 429
            assert "too many event streams" in body["detail"]
            assert int(refused.headers["retry-after"]) > 0

            async with connect(f"{served.ws_base}/v1/leaderboards/{board}/ws") as over:
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(over.recv(), 5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1013
            assert "too many event streams" in closed.value.rcvd.reason

            # Per address: another client (through the trusted local proxy) is not refused.
            elsewhere = await http.send(
                http.build_request("GET", url, headers={"X-Forwarded-For": "10.1.2.3"}),
                stream=True,
            )
            assert elsewhere.status_code == 200
            await elsewhere.aclose()

            # A stream that ends gives its slot back.
            await first.aclose()

            async def slot_free() -> bool:
                return served.hub.streams_held("127.0.0.1") == 2

            await async_wait_until(slot_free, 5, "the slot to be given back")
            again = await http.send(http.build_request("GET", url), stream=True)
            assert again.status_code == 200
            await again.aclose()
        await second.aclose()


async def read_until_end(response: httpx.Response) -> list[str]:
    """Every line until the stream ends; raises if it ends in the middle of a chunk."""
    return [line async for line in response.aiter_lines()]


async def test_closing_the_hub_ends_every_stream(served: Served) -> None:
    board = await served.new_board()
    baseline = subscribers_gauge()
    url = f"{served.base}/v1/leaderboards/{board}/events"
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("GET", url) as response,
        connect(f"{served.ws_base}/v1/leaderboards/{board}/ws") as socket,
    ):
        await socket.recv()
        await served.hub.close()  # what the app's lifespan does on shutdown
        lines = await asyncio.wait_for(read_until_end(response), 5)
        assert ": subscribed" in lines
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1001
    assert subscribers_gauge() == baseline


async def test_shutdown_with_streams_open_is_prompt_and_quiet(
    settings: Settings, redis: AnyRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with serving(settings) as served, httpx.AsyncClient(timeout=10) as http:
        board = await served.new_board()
        baseline = subscribers_gauge()
        url = f"{served.base}/v1/leaderboards/{board}/events"
        async with (
            http.stream("GET", url) as response,
            connect(f"{served.ws_base}/v1/leaderboards/{board}/ws") as socket,
        ):
            await socket.recv()
            lines = response.aiter_lines()
            assert await anext(lines) == ": subscribed"
            start = time.monotonic()
            served.server.should_exit = True  # what uvicorn does on SIGINT / SIGTERM
            # The SSE stream ends cleanly (the closing chunk arrives, no cut-off chunk).
            rest = await asyncio.wait_for(_drain(lines), 5)
            assert not any(rest)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1012  # uvicorn's "service restart"
            await asyncio.wait_for(served.task, 10)  # lifespan shutdown included
            took = time.monotonic() - start
    assert took < 2, f"shutdown took {took:.1f} s"
    assert subscribers_gauge() == baseline
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not problems, [r.getMessage() for r in problems]


async def _drain(lines: AsyncIterator[str]) -> list[str]:
    return [line async for line in lines]
