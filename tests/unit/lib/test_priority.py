"""Writes first: reads take turns while a write is in flight (lib/priority.py).

The layer is driven directly as ASGI, with an app that holds its requests until the test
lets them go, so the interleaving is decided by the test, not by timing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from leaderboard.lib.priority import WritesFirst


class Held:
    """An ASGI app whose requests wait until released; it counts reads running at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.reading = 0
        self.most_reading = 0
        self.streams_started = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            self.streams_started += 1
            await self.release.wait()  # an endless response, past its head
            return
        is_read = scope["method"] == "GET"
        if is_read:
            self.reading += 1
            self.most_reading = max(self.most_reading, self.reading)
        await self.release.wait()
        if is_read:
            self.reading -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def request(method: str, path: str = "/x") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "headers": []}


async def call(layer: Any, scope: dict[str, Any]) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Any) -> None:
        return None

    await layer(scope, receive, send)


async def until(condition: Any) -> None:
    """Let the other tasks run until ``condition()`` holds (bounded: 10,000 turns)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def test_reads_pass_freely_without_a_write() -> None:
    held = Held()
    layer = WritesFirst(read_slots=2).middleware(held)
    reads = [asyncio.create_task(call(layer, request("GET"))) for _ in range(10)]
    await until(lambda: held.reading == 10)
    held.release.set()
    await asyncio.gather(*reads)
    assert held.most_reading == 10


async def test_while_a_write_is_in_flight_reads_take_turns() -> None:
    held = Held()
    gate = WritesFirst(read_slots=2)
    layer = gate.middleware(held)
    write = asyncio.create_task(call(layer, request("POST")))
    await until(lambda: gate.writes == 1)
    reads = [asyncio.create_task(call(layer, request("GET"))) for _ in range(10)]
    await until(lambda: held.reading == 2)
    for _ in range(20):
        await asyncio.sleep(0)
    assert held.reading == 2, "the others wait for a slot"
    held.release.set()
    await asyncio.gather(write, *reads)
    assert held.most_reading == 2
    assert gate.writes == 0


async def test_a_stream_gives_its_slot_back_once_its_head_is_sent() -> None:
    held = Held()
    gate = WritesFirst(read_slots=1)
    layer = gate.middleware(held)
    write = asyncio.create_task(call(layer, request("POST")))
    await until(lambda: gate.writes == 1)
    streams = [asyncio.create_task(call(layer, request("GET", "/stream"))) for _ in range(3)]
    await until(lambda: held.streams_started == 3)  # one slot, three streams: all started
    held.release.set()
    await asyncio.gather(write, *streams)


async def test_zero_slots_turn_it_off() -> None:
    held = Held()
    assert WritesFirst(read_slots=0).middleware(held) is held
