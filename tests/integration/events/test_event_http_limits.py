"""LimitedHttpToolsProtocol (leaderboard/lib/http_limits.py) under a real uvicorn.

uvicorn runs in a thread on a free port with a small ASGI app; clients are raw sockets,
so that a request head can be cut anywhere. The waits in these tests are the slow client
being simulated (bytes sent late on purpose), never a guess about the server's timing:
what the server does is waited for with a timeout.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from websockets.sync.client import connect

from leaderboard.lib.http_limits import server_draining
from tests.streams_helpers import read_until, read_until_closed
from tests.uvicorn_helpers import HEAD_TIMEOUT, running


def test_half_a_request_line_is_answered_408_and_closed() -> None:
    with running() as server, server.connect() as sock:
        start = time.monotonic()
        sock.sendall(b"GET /hel")
        received, _ = read_until_closed(sock)
        took = time.monotonic() - start
    assert received.startswith(b"HTTP/1.1 408 ")
    assert HEAD_TIMEOUT * 0.8 <= took < HEAD_TIMEOUT + 2


def test_a_connection_that_sends_nothing_is_closed() -> None:
    with running() as server, server.connect() as sock:
        received, took = read_until_closed(sock)
    assert received == b""  # nothing was asked: nothing to answer
    assert HEAD_TIMEOUT * 0.8 <= took < HEAD_TIMEOUT + 2


def test_a_trickled_head_is_cut_at_the_deadline_bytes_do_not_extend_it() -> None:
    with running() as server, server.connect() as sock:
        start = time.monotonic()
        for byte in b"GET / HTTP/1.1\r\nHost: x":
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break  # closed by the server
            if time.monotonic() - start > HEAD_TIMEOUT * 4:
                break
            time.sleep(HEAD_TIMEOUT / 5)  # the slow client itself
        received, _ = read_until_closed(sock)
        took = time.monotonic() - start
    assert received.startswith(b"HTTP/1.1 408 ")
    assert took < HEAD_TIMEOUT * 3


def test_a_head_sent_in_pieces_within_the_deadline_is_served() -> None:
    with running() as server, server.connect() as sock:
        sock.sendall(b"GET / HT")
        time.sleep(HEAD_TIMEOUT / 3)  # the slow client itself
        sock.sendall(b"TP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received, _ = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nhello\r\n" in received


def test_an_idle_kept_alive_connection_is_governed_by_keep_alive_not_the_head_deadline() -> None:
    with running(keep_alive=3) as server, server.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_until(sock, b"\r\n0\r\n\r\n").startswith(b"HTTP/1.1 200 ")
        time.sleep(HEAD_TIMEOUT * 2)  # idle, longer than the head deadline, within keep-alive
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received, _ = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 200 ")


def test_the_next_head_on_a_kept_alive_connection_has_a_deadline_too() -> None:
    with running(keep_alive=30) as server, server.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_until(sock, b"\r\n0\r\n\r\n").startswith(b"HTTP/1.1 200 ")
        start = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHos")  # uvicorn's keep-alive timer stops here
        received, _ = read_until_closed(sock)
        took = time.monotonic() - start
    assert received.startswith(b"HTTP/1.1 408 ")
    assert took < HEAD_TIMEOUT + 2


def test_a_websocket_outlives_the_head_deadline() -> None:
    with (
        running() as server,
        connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=5) as websocket,
    ):
        websocket.send("one")
        assert websocket.recv(timeout=5) == "one"
        time.sleep(HEAD_TIMEOUT * 2)  # past the deadline of the upgrade request's head
        websocket.send("two")
        assert websocket.recv(timeout=5) == "two"


def test_shutdown_tells_endless_responses_to_end() -> None:
    with running() as server, server.connect() as sock:
        sock.sendall(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
        read_until(sock, b"streaming")
        start = time.monotonic()
        server.server.should_exit = True
        received, _ = read_until_closed(sock)
        server.thread.join(10)
        took = time.monotonic() - start
    assert b"bye" in received
    assert received.endswith(b"0\r\n\r\n")  # the closing chunk: a complete response
    assert not server.thread.is_alive()
    assert took < 2  # not uvicorn's timeout_graceful_shutdown


def test_plain_uvicorn_keeps_a_half_request_line_open() -> None:
    """Why the class exists: uvicorn alone does not close it (checked for a while)."""
    with running(protocol="httptools") as server, server.connect() as sock:
        sock.sendall(b"GET /hel")
        sock.settimeout(HEAD_TIMEOUT * 3)
        with pytest.raises(TimeoutError):
            sock.recv(4096)


def test_the_drain_event_is_none_outside_the_protocol() -> None:
    assert server_draining({"type": "http", "state": {}}) is None
    assert server_draining({"type": "http"}) is None
    event = asyncio.Event()
    assert server_draining({"state": {"leaderboard.server_draining": event}}) is event
