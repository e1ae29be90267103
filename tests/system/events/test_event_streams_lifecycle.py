"""Event streams against a real `leaderboard serve`: dropped clients, Ctrl-C, caps, slowloris.

Measured through what an operator sees: ``/metrics`` (``leaderboard_event_subscribers``,
per worker process), the processes' RSS, the exit time and the output.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import ADMIN
from tests.helpers import free_port, wait_until
from tests.paths import REPO
from tests.procs import clean_env, descendants, service_env, start_cli
from tests.streams_helpers import open_raw_websocket, read_until, read_until_closed, send_head


class Serve:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.ws_base = f"ws://127.0.0.1:{port}"
        self.output = ""

    def rss(self) -> int:
        """Bytes resident in the serve process and its workers."""
        processes = [psutil.Process(self.process.pid), *descendants(self.process.pid)]
        return sum(p.memory_info().rss for p in processes if "python" in p.name())

    def subscriber_gauges(self, scrapes: int) -> list[float]:
        """The gauge from ``scrapes`` fresh connections (each lands on some worker)."""
        values = []
        for _ in range(scrapes):
            text = httpx.get(f"{self.base}/metrics", timeout=5).text
            found = re.search(r"^leaderboard_event_subscribers (\S+)$", text, re.MULTILINE)
            assert found is not None, text
            values.append(float(found.group(1)))
        return values

    def released(self, scrapes: int = 1) -> bool:
        return not any(self.subscriber_gauges(scrapes))

    def new_board(self) -> str:
        board_id = f"l-{uuid.uuid4().hex[:12]}"
        response = httpx.post(
            f"{self.base}/v1/leaderboards", json={"id": board_id}, headers=ADMIN, timeout=10
        )
        assert response.status_code == 201, response.text
        return board_id


@contextmanager
def serve(
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    prefix: str,
    workers: int = 1,
    **env: str,
) -> Iterator[Serve]:
    port = free_port()
    environment = service_env(tmp_path, database_url, redis_url, prefix, **env)
    args = ["serve", "--port", str(port), "--workers", str(workers)]
    server = Serve(start_cli(args, environment, tmp_path), port)

    def ready() -> bool:
        try:
            return httpx.get(f"{server.base}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(lambda: ready() or server.process.poll() is not None, 30, "serve")
        assert server.process.poll() is None, server.process.communicate()[0]
        yield server
    finally:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
        server.output = server.process.communicate(timeout=30)[0]


@pytest.fixture
def servers(database_url: str, redis_url: str, redis_key_prefix: str, redis: Any) -> Any:
    def start(tmp_path: Path, workers: int = 1, **env: str) -> Any:
        return serve(tmp_path, database_url, redis_url, redis_key_prefix, workers, **env)

    return start


async def drop_sse_requests(serve: Serve, board: str, count: int) -> None:
    """Half leave right after the request head, half right after the response head."""
    path = f"/v1/leaderboards/{board}/events"
    limit = asyncio.Semaphore(50)

    async def one(i: int) -> None:
        async with limit:
            reader, writer = await send_head(serve.port, path)
            if i % 2:
                await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(one(i) for i in range(count)))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_thousand_dropped_sse_requests_leave_nothing_behind(
    servers: Any, tmp_path: Path, workers: int
) -> None:
    with servers(tmp_path, workers, LEADERBOARD_EVENTS_MAX_STREAMS_PER_CLIENT="10000") as serve:
        board = serve.new_board()
        # Warm up with as many as are measured: the allocator's high-water mark and the
        # caches settle, so what grows after is what the requests left behind.
        asyncio.run(drop_sse_requests(serve, board, 1000))
        wait_until(lambda: serve.released(scrapes=10), 5, "the warm-up to be released")
        before = serve.rss()
        asyncio.run(drop_sse_requests(serve, board, 1000))
        dropped_at = time.monotonic()
        # Each scrape lands on one worker: several in a row at 0 cover both of two.
        took = wait_until(lambda: serve.released(scrapes=10 * workers), 5, "subscribers at 0")
        grown = serve.rss() - before
        print(
            f"\n{workers} worker(s): subscribers back to 0 in {took:.2f} s; RSS "
            f"{before / 2**20:.1f} MiB before, grown {grown / 2**20:+.2f} MiB after 1,000 "
            f"dropped SSE requests ({time.monotonic() - dropped_at:.2f} s after the last)"
        )
        assert grown < 4 * 2**20


def test_a_websocket_client_that_vanishes_is_released_within_5s(
    servers: Any, tmp_path: Path
) -> None:
    with servers(tmp_path) as serve:
        board = serve.new_board()

        async def vanish() -> None:
            _, writer = await open_raw_websocket(serve.port, f"/v1/leaderboards/{board}/ws")
            assert serve.subscriber_gauges(1) == [1.0]
            writer.transport.abort()  # no close frame, no goodbye

        asyncio.run(vanish())
        took = wait_until(serve.released, 5, "the vanished client to be released")
        assert took < 5


async def hold_streams(serve: Serve, board: str, sse: bool, then: Any) -> Any:
    """Hold an SSE stream (if ``sse``) and a WebSocket open while ``then()`` runs."""
    async with (
        httpx.AsyncClient(timeout=30) as http,
        connect(f"{serve.ws_base}/v1/leaderboards/{board}/ws") as websocket,
    ):
        await websocket.recv()
        if not sse:
            return await asyncio.to_thread(then)
        url = f"{serve.base}/v1/leaderboards/{board}/events"
        async with http.stream("GET", url) as response:
            lines = response.aiter_lines()
            assert await anext(lines) == ": subscribed"
            return await asyncio.to_thread(then)


def ctrl_c(serve: Serve) -> float:
    """Seconds from SIGINT to the exit of `leaderboard serve`."""
    start = time.monotonic()
    serve.process.send_signal(signal.SIGINT)
    serve.process.wait(timeout=30)
    return time.monotonic() - start


@pytest.mark.parametrize(
    "sse",
    [False, True],
    ids=["websocket", "websocket-and-sse"],
)
@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_with_streams_open_stops_at_once_without_tracebacks(
    servers: Any, tmp_path: Path, workers: int, sse: bool
) -> None:
    with servers(tmp_path, workers) as serve:
        board = serve.new_board()
        took = asyncio.run(hold_streams(serve, board, sse, lambda: ctrl_c(serve)))
    assert serve.process.returncode == 0, serve.output
    assert "Traceback" not in serve.output, serve.output
    assert took < 2, f"stopped {took:.1f} s after SIGINT"


def test_streams_per_client_address_are_capped(servers: Any, tmp_path: Path) -> None:
    with servers(tmp_path, LEADERBOARD_EVENTS_MAX_STREAMS_PER_CLIENT="2") as serve:
        board = serve.new_board()

        async def over_the_cap() -> None:
            url = f"{serve.base}/v1/leaderboards/{board}/events"
            async with (
                httpx.AsyncClient(timeout=10) as http,
                http.stream("GET", url) as first,
                connect(f"{serve.ws_base}/v1/leaderboards/{board}/ws") as second,
            ):
                assert first.status_code == 200
                await second.recv()
                refused = await http.get(url)
                assert refused.status_code == 429
                assert refused.json()["status_code"] == 429
                assert "too many event streams" in refused.json()["detail"]
                assert refused.headers["retry-after"].isdigit()
                async with connect(f"{serve.ws_base}/v1/leaderboards/{board}/ws") as third:
                    with pytest.raises(ConnectionClosed) as closed:
                        await asyncio.wait_for(third.recv(), 5)
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 1013

        asyncio.run(over_the_cap())
        # Both streams ended: their slots are free again.
        wait_until(serve.released, 5, "the streams to be released")
        with httpx.stream("GET", f"{serve.base}/v1/leaderboards/{board}/events") as again:
            assert again.status_code == 200


def test_a_half_sent_request_line_is_closed_after_the_header_timeout(
    servers: Any, tmp_path: Path
) -> None:
    with (
        servers(tmp_path, LEADERBOARD_HTTP_HEADER_TIMEOUT_SECONDS="1") as serve,
        socket.create_connection(("127.0.0.1", serve.port)) as sock,
    ):
        start = time.monotonic()
        sock.sendall(b"GET /rea")
        received, _ = read_until_closed(sock, timeout=4)
        took = time.monotonic() - start
    assert received.startswith(b"HTTP/1.1 408 ")
    assert 0.8 < took < 3


WORKERS_SCRIPT = """
import uvicorn
uvicorn.run(
    "tests.uvicorn_helpers:hello_app",
    port={port},
    workers=2,
    http="leaderboard.lib.http_limits:LimitedHttpToolsProtocol",
    log_config=None,
)
"""


def test_the_protocol_works_in_worker_processes_as_serve_would_use_it(tmp_path: Path) -> None:
    """The proposed serve.py setting, with two workers: loaded by import string in each
    worker, the timeout read from the environment, the drain notice on SIGINT."""
    port = free_port()
    env = clean_env(LEADERBOARD_HTTP_HEADER_TIMEOUT_SECONDS="0.5")
    process = subprocess.Popen(
        [sys.executable, "-c", WORKERS_SCRIPT.format(port=port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(lambda: up() or process.poll() is not None, 30, "uvicorn with two workers")
        with socket.create_connection(("127.0.0.1", port)) as sock:
            start = time.monotonic()
            sock.sendall(b"GET / HT")
            assert read_until_closed(sock, timeout=4)[0].startswith(b"HTTP/1.1 408 ")
            assert time.monotonic() - start < 2.5
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
            read_until(sock, b"streaming")
            start = time.monotonic()
            process.send_signal(signal.SIGINT)
            assert read_until_closed(sock, timeout=5)[0].endswith(b"0\r\n\r\n")
            process.wait(timeout=10)
            took = time.monotonic() - start
    finally:
        if process.poll() is None:
            for child in [*descendants(process.pid), psutil.Process(process.pid)]:
                child.kill()
        output = process.communicate(timeout=10)[0]
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    assert took < 2
