"""Request heads past 64 KiB or 100 fields: refused with 431 (leaderboard/lib/http_limits.py).

A real uvicorn in a thread with LimitedHttpToolsProtocol; raw sockets, so that a head can
be exactly at a limit, one byte or one field past it, or sent in any number of reads.
(tests/system/ops/test_request_heads.py sends the same to `leaderboard serve` and watches the
worker's memory.)
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from leaderboard.lib.http_limits import MAX_HEAD_BYTES, MAX_HEADER_FIELDS
from tests.streams_helpers import read_until_closed
from tests.uvicorn_helpers import running


def head(fields: list[tuple[str, str]], method: str = "GET") -> bytes:
    lines = [f"{method} / HTTP/1.1", *(f"{name}: {value}" for name, value in fields)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def head_of_size(size: int, method: str = "GET") -> bytes:
    """A head of exactly ``size`` bytes: Host, Connection: close and one padding field."""
    fields = [("Host", "x"), ("Connection", "close"), ("X-Pad", "")]
    padding = size - len(head(fields, method))
    assert padding >= 0
    fields[-1] = ("X-Pad", "a" * padding)
    sent = head(fields, method)
    assert len(sent) == size
    return sent


def head_of_fields(count: int) -> bytes:
    extra = [(f"X-Field-{i}", "v") for i in range(count - 2)]
    return head([("Host", "x"), ("Connection", "close"), *extra])


def ask(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received, _ = read_until_closed(sock)
    return received


def refusal(received: bytes) -> dict[str, object]:
    """The 431's body, after checking its status line and headers."""
    status, _, rest = received.partition(b"\r\n")
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large", received[:200]
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in headers
    assert b"connection: close" in headers
    decoded: dict[str, object] = json.loads(body)
    return decoded


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_head_of_64_kib_is_served_and_one_byte_more_is_refused(method: str) -> None:
    with running() as server:
        served = ask(server.port, head_of_size(MAX_HEAD_BYTES, method))
        refused = ask(server.port, head_of_size(MAX_HEAD_BYTES + 1, method))
    assert served.startswith(b"HTTP/1.1 200 ")
    assert refusal(refused) == {
        "status_code": 431,
        "detail": f"request head larger than {MAX_HEAD_BYTES} bytes",
    }


def test_100_header_fields_are_served_and_101_are_refused() -> None:
    with running() as server:
        served = ask(server.port, head_of_fields(MAX_HEADER_FIELDS))
        refused = ask(server.port, head_of_fields(MAX_HEADER_FIELDS + 1))
    assert served.startswith(b"HTTP/1.1 200 ")
    assert refusal(refused) == {
        "status_code": 431,
        "detail": f"more than {MAX_HEADER_FIELDS} header fields",
    }


def test_a_head_trickled_in_small_reads_is_measured_as_a_whole() -> None:
    """Many reads, each small: the parts add up to the head (one field grows slowly)."""
    big = head_of_size(MAX_HEAD_BYTES + 1024)
    with running() as server, server.connect() as sock:
        try:
            for start in range(0, len(big), 4096):
                sock.sendall(big[start : start + 4096])
        except OSError:
            pass  # refused (and closed) before the end: as it should be
        received, _ = read_until_closed(sock)
    assert refusal(received)["status_code"] == 431


def test_a_long_target_is_refused_too() -> None:
    target = "/?" + "q" * MAX_HEAD_BYTES
    with running() as server:
        received = ask(server.port, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert refusal(received)["status_code"] == 431


def test_a_huge_header_is_refused_while_it_is_still_being_sent() -> None:
    """64 MiB in one header: the answer comes long before the head could be whole."""
    total = 64 * 1024 * 1024
    chunk = b"a" * (256 * 1024)
    with running() as server, server.connect() as sock:
        start = time.monotonic()
        sent = 0
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
            while sent < total:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection: the client could not send it all
        took = time.monotonic() - start
        try:
            received, _ = read_until_closed(sock)
        except ConnectionResetError:
            received = b""  # a reset may discard the 431 before the client reads it
    assert sent < total, "the server took the whole head"  # the buffers took a few MiB
    assert took < 5
    if received:
        assert refusal(received)["status_code"] == 431


def test_pipelined_requests_each_get_their_own_count() -> None:
    """A kept-alive connection: a head's count starts again with each request."""
    fine = head([("Host", "x"), ("X-Pad", "a" * (MAX_HEAD_BYTES // 2))])
    last = head_of_size(MAX_HEAD_BYTES)
    with running() as server:
        received = ask(server.port, fine + fine + fine + last)
    assert received.count(b"HTTP/1.1 200 ") == 4
    assert b" 431 " not in received


def test_a_body_larger_than_the_head_limit_is_not_counted_as_head() -> None:
    body = b"b" * (4 * MAX_HEAD_BYTES)
    request = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    with running() as server:
        received = ask(server.port, request + head_of_size(1024))
    assert received.count(b"HTTP/1.1 200 ") == 2
