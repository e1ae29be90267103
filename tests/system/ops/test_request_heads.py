"""Oversized request heads against `leaderboard serve`: refused early, the worker stays small.

What a security probe found before the limits: a 64 MiB header answered 200 after 5 s
and grew the worker from 80 to 146 MB; 100,000 header fields answered 200. Raw sockets,
so the client sees exactly when the server stops taking bytes; the worker's resident
memory is read from /proc (`serve` with one worker serves in its own process).
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.procs import RunningService, service_fixture
from tests.streams_helpers import read_until_closed

pytestmark = pytest.mark.slow

service = service_fixture("request-heads")

MiB = 1024 * 1024


def memory(pid: int) -> tuple[int, int]:
    """The process's resident memory now and at its peak (VmRSS, VmHWM in /proc), bytes.

    The peak matters: a head buffered whole is freed once answered, so the resident
    memory after it may be back where it was.
    """
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024
    return values["VmRSS"], values["VmHWM"]


def address(service: RunningService) -> tuple[str, int]:
    host, _, port = service.base.removeprefix("http://").partition(":")
    return host, int(port)


class Sent:
    def __init__(self) -> None:
        self.bytes = 0
        self.seconds = 0.0
        self.answer = b""


def send_head(service: RunningService, start: bytes, filler: bytes, total: int) -> Sent:
    """``start``, then ``filler`` until ``total`` bytes or until the server stops taking them;
    then whatever the server answers (a reset may discard it: then nothing)."""
    sent = Sent()
    began = time.monotonic()
    with socket.create_connection(address(service), timeout=10) as sock:
        try:
            sock.sendall(start)
            sent.bytes = len(start)
            while sent.bytes < total:
                sock.sendall(filler)
                sent.bytes += len(filler)
            sock.sendall(b"\r\n\r\n")
        except OSError:
            pass  # closed by the server while the client was still sending
        sent.seconds = time.monotonic() - began
        with contextlib.suppress(ConnectionResetError):  # the reset discarded the answer
            sent.answer, _ = read_until_closed(sock)
    return sent


def assert_refused(sent: Sent) -> None:
    """A 431, or nothing (the connection was reset before the client read the answer)."""
    if sent.answer:
        status, _, rest = sent.answer.partition(b"\r\n")
        assert status == b"HTTP/1.1 431 Request Header Fields Too Large", sent.answer[:200]
        body = json.loads(rest.partition(b"\r\n\r\n")[2])
        assert body["status_code"] == 431
        assert body["detail"]


def test_a_64_mib_header_is_refused_while_it_is_sent_and_the_worker_does_not_grow(
    service: RunningService,
) -> None:
    pid = service.process.pid
    assert httpx.get(f"{service.base}/health").status_code == 200
    rss_before, peak_before = memory(pid)
    total = 64 * MiB
    start = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
    sent = send_head(service, start, b"a" * (256 * 1024), total)
    rss_after, peak_after = memory(pid)
    # The client could not send it all: closed while it was still sending. (What it did
    # send is mostly what the sockets' buffers took: a few MiB.)
    assert sent.bytes < total, "the server took the whole 64 MiB head"
    assert sent.seconds < 2
    assert_refused(sent)
    # Before the limits the worker held the whole value while it arrived: its peak rose
    # by 66 MB (an answer after 5 s), and fell back once the request was answered.
    grew = (rss_after - rss_before) / MiB, (peak_after - peak_before) / MiB
    assert max(grew) < 8, f"the worker grew by {grew[0]:.1f} MiB (its peak by {grew[1]:.1f})"
    assert httpx.get(f"{service.base}/health").status_code == 200


def test_100000_header_fields_are_refused_early(service: RunningService) -> None:
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(1000))
    start = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    sent = send_head(service, start, fields, 100 * len(fields))
    # About 1 MiB: the socket buffers may take all of it before the server reads any, so
    # what shows the refusal is the answer: a 431, or the connection reset, never a 200.
    assert sent.seconds < 2
    assert_refused(sent)
    assert httpx.get(f"{service.base}/health").status_code == 200


def test_the_limits_are_100_fields_and_64_kib(service: RunningService) -> None:
    url = f"{service.base}/health"
    own = len(httpx.Client().build_request("GET", url).headers)  # Host, User-Agent, …
    fields = {f"x-field-{i}": "v" for i in range(100 - own)}
    assert len(httpx.Client().build_request("GET", url, headers=fields).headers) == 100
    assert httpx.get(url, headers=fields).status_code == 200
    over = httpx.get(url, headers={**fields, "x-one-more": "v"})
    assert over.status_code == 431
    assert over.json() == {"status_code": 431, "detail": "more than 100 header fields"}
    assert over.headers["content-type"] == "application/json"
    big = {"x-big": "a" * (60 * 1024)}
    assert httpx.get(url, headers=big).status_code == 200
    too_big = httpx.get(url, headers={"x-big": "a" * (64 * 1024)})
    assert too_big.status_code == 431
