"""Writes first: while a worker has a write in flight, its reads take turns.

A worker's requests share one event loop, and a read served from the worker's cache (a
top page) is all CPU: it never waits, so the loop runs every ready read to the end
before a write's next step (its session, its Redis call, its commit, its index write)
gets a turn. Under a flood of such reads a submission waited for dozens of reads per
step (docs/benchmarks.md, the mixed load: 4-14 % of its solo rate kept, p99 ~350 ms).
So while a write (any method but GET, HEAD and OPTIONS) is in flight in the worker, a
read (GET or HEAD) first takes one of a few slots, and gives it back as soon as its
response starts: at most that many reads run between two steps of a write. With no
write in flight reads pass freely, and a stream (SSE) holds its slot only until its
head is sent.

One :class:`WritesFirst` per app (per worker); ``LEADERBOARD_READ_SLOTS`` slots (0: off).
"""

from __future__ import annotations

import asyncio

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_READS = frozenset({"GET", "HEAD"})
_PASS = frozenset({"OPTIONS"})


class WritesFirst:
    def __init__(self, read_slots: int) -> None:
        self.read_slots = read_slots
        self.writes = 0
        self._slots = asyncio.Semaphore(max(read_slots, 1))

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """The layer (Litestar builds one per route; all of them share this state)."""
        if self.read_slots <= 0:
            return app

        async def writes_first(scope: Scope, receive: Receive, send: Send) -> None:
            method = scope.get("method") if scope["type"] == ScopeType.HTTP else None
            if method is None or method in _PASS:
                await app(scope, receive, send)
            elif method in _READS:
                if self.writes:
                    await self._read_in_turn(app, scope, receive, send)
                else:
                    await app(scope, receive, send)
            else:
                self.writes += 1
                try:
                    await app(scope, receive, send)
                finally:
                    self.writes -= 1

        return writes_first

    async def _read_in_turn(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        await self._slots.acquire()
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                self._slots.release()

        async def send_and_give_back(message: Message) -> None:
            if message["type"] == "http.response.start":
                give_back()
            await send(message)

        try:
            await app(scope, receive, send_and_give_back)
        finally:
            give_back()
