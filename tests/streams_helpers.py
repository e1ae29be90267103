"""Helpers for tests of event streams: a real uvicorn in the test's loop, raw sockets."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from litestar import Litestar
from prometheus_client import REGISTRY

from leaderboard.events.hub import EventHub
from leaderboard.lib.http_limits import LimitedHttpToolsProtocol
from leaderboard.lib.settings import Settings
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import ADMIN
from tests.helpers import async_wait_until, free_port

GAUGE = "leaderboard_event_subscribers"


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    sock.settimeout(5)
    received = b""
    while marker not in received:
        chunk = sock.recv(4096)
        assert chunk, received
        received += chunk
    return received


def read_until_closed(sock: socket.socket, timeout: float = 5) -> tuple[bytes, float]:
    """Everything the server sends until it closes; and the seconds that took."""
    start = time.monotonic()
    sock.settimeout(timeout)
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received, time.monotonic() - start


def subscribers_gauge() -> float:
    return REGISTRY.get_sample_value(GAUGE) or 0.0


class Served:
    """The app behind a real uvicorn in this event loop."""

    def __init__(
        self, app: Litestar, server: uvicorn.Server, task: asyncio.Task[None], port: int
    ) -> None:
        self.app = app
        self.server = server
        self.task = task
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.ws_base = f"ws://127.0.0.1:{port}"

    @property
    def hub(self) -> EventHub:
        services = self.app.plugins.get(InfrastructurePlugin).services
        return services.get(EventHub)

    async def new_board(self) -> str:
        board_id = f"s-{uuid.uuid4().hex[:12]}"
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as api:
            response = await api.post(
                "/v1/leaderboards",
                json={
                    "id": board_id,
                    "rate_limit": {"limit": 1000, "window_seconds": 60},
                    "overtake_events": 0,
                },
                headers=ADMIN,
            )
        assert response.status_code == 201, response.text
        return board_id


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Served]:
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=LimitedHttpToolsProtocol,
        lifespan="on",
        log_config=None,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started or task.done()

    await async_wait_until(started, 30, "uvicorn to start")
    if task.done():
        await task  # raises what stopped it
    try:
        yield Served(app, server, task, port)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def send_head(port: int, path: str, headers: str = "") -> tuple[Any, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n{headers}\r\n".encode())
    await writer.drain()
    return reader, writer


async def open_raw_websocket(port: int, path: str) -> tuple[Any, Any]:
    """A WebSocket handshake by hand, up to the server's first (``subscribed``) message."""
    key = base64.b64encode(os.urandom(16)).decode()
    reader, writer = await send_head(
        port,
        path,
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101"), head
    first, length = await asyncio.wait_for(reader.readexactly(2), 5)
    assert first == 0x81  # a final text frame
    assert await reader.readexactly(length) == b'{"type":"subscribed"}'
    return reader, writer


class SseReader:
    """Reads `id:`/`event:`/`data:` blocks from an SSE response."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = 5.0) -> dict[str, str]:
        async def read() -> dict[str, str]:
            block: dict[str, str] = {}
            async for line in self._lines:
                if not line:
                    if block:
                        return block
                    continue
                field, _, value = line.partition(":")
                block[field or "comment"] = value.strip()
            raise AssertionError("the stream ended")

        return await asyncio.wait_for(read(), timeout)

    async def next_event(self, timeout: float = 5.0) -> dict[str, str]:
        """The next block with data (heartbeats skipped), within ``timeout`` in all."""
        deadline = asyncio.get_running_loop().time() + timeout
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            block = await self.next(left)
            if "data" in block:
                return block
        raise TimeoutError(f"no event within {timeout} s")
