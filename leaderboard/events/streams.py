"""What one SSE or WebSocket client holds in a worker, and the cap on how much.

An :class:`EventStream` is a subscription plus one of its address's stream slots. Whoever
serves the stream releases it when the stream ends, whichever way it ends; if that code
never runs (a response built but never sent), a finalizer releases it when the stream
object is collected, so neither the hub nor the slot count can leak.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref

from leaderboard.events.subscription import Subscription
from leaderboard.events.topics import Topic
from leaderboard.lib.errors import RateLimitedError

# A client over the cap usually holds streams it forgot: give it time to drop them.
RETRY_AFTER_SECONDS = 5


class ClientStreams:
    """Open event streams per client address in this worker, at most ``limit`` each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: dict[str, int] = {}

    def acquire(self, client: str) -> None:
        """Take a slot for ``client``.

        Raises:
            RateLimitedError: ``client`` already holds ``limit`` streams (429, Retry-After).

        """
        held = self._held.get(client, 0)
        if held >= self.limit:
            raise RateLimitedError(
                f"too many event streams from this address (at most {self.limit} per worker); "
                "close one first",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self._held[client] = held + 1

    def release(self, client: str) -> None:
        held = self._held.get(client, 0) - 1
        if held > 0:
            self._held[client] = held
        else:
            self._held.pop(client, None)

    def held(self, client: str) -> int:
        return self._held.get(client, 0)


class EventStream:
    """One client's stream: a subscription and a slot, released exactly once."""

    def __init__(self, subscription: Subscription, slots: ClientStreams, client: str) -> None:
        self.subscription = subscription
        self.client = client
        loop = asyncio.get_running_loop()
        # The callback holds what to release, not the stream (or it would never be collected).
        self._finalizer = weakref.finalize(self, _release, loop, subscription, slots, client)
        self._finalizer.atexit = False  # at exit the loop and the hub are gone anyway

    @property
    def topic(self) -> Topic:
        return self.subscription.topic

    def end(self) -> None:
        """End the stream gracefully: the sender sees HubClosedError after the queued events."""
        self.subscription.close()

    def release(self) -> None:
        """Give back the subscription and the slot (idempotent: a finalizer runs once)."""
        self._finalizer()

    @property
    def released(self) -> bool:
        return not self._finalizer.alive


def _release(
    loop: asyncio.AbstractEventLoop, subscription: Subscription, slots: ClientStreams, client: str
) -> None:
    def release() -> None:
        subscription.release()
        slots.release(client)

    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        release()
        return
    # Collected in another thread (the garbage collector runs wherever it is triggered):
    # the hub's sets belong to the loop's thread, so release there.
    with contextlib.suppress(RuntimeError):  # the loop is closed: nothing is left to release
        loop.call_soon_threadsafe(release)
