"""A client's view of one topic's events (a board's, a league's), as the hub hands them out."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable

from leaderboard.events.topics import Topic


class HubClosedError(Exception):
    """The stream was ended (the worker is shutting down): end the client's stream."""


class Subscription:
    """Raw JSON messages of one topic for one client, oldest dropped first.

    ``on_release`` takes it off the hub; :meth:`release` calls it once, however often it
    is called (a stream's cleanup paths may overlap: the handler, the response, a finalizer).
    """

    def __init__(
        self, topic: Topic, backlog: int, on_release: Callable[[Subscription], None]
    ) -> None:
        self.topic = topic
        self._on_release: Callable[[Subscription], None] | None = on_release
        self._messages: deque[str] = deque(maxlen=backlog)
        self._wakeup = asyncio.Event()
        self.dropped = 0
        self.closed = False
        self.direct: Callable[[str], bool] | None = None
        """Writes a message to the client at once, if it can (True): set while the client
        is caught up (websocket.py), so that an event wakes no task of the client's."""

    def push(self, message: str) -> None:
        direct = self.direct
        if direct is not None and not self._messages:
            if direct(message):
                return
            self.direct = None  # the connection cannot take it now: its task sends it
        if len(self._messages) == self._messages.maxlen:
            self.dropped += 1
        self._messages.append(message)
        self._wakeup.set()

    @property
    def pending(self) -> int:
        """Messages queued for the client, not yet sent."""
        return len(self._messages)

    def push_front(self, message: str) -> None:
        """Put back a message taken too early (to send a notice before it)."""
        self._messages.appendleft(message)

    def close(self) -> None:
        """End the stream: once the queued messages are taken, ``next`` raises HubClosedError."""
        self.closed = True
        self._wakeup.set()

    def release(self) -> None:
        """Take the subscription off the hub (idempotent); it receives nothing more."""
        self.close()
        on_release, self._on_release = self._on_release, None
        if on_release is not None:
            on_release(self)

    def take(self) -> str:
        """The oldest queued message (the caller checked ``pending``)."""
        return self._messages.popleft()

    async def next(self, timeout: float) -> str | None:
        """The next message; None when ``timeout`` passed without one (time for a heartbeat).

        Raises:
            HubClosedError: the stream was ended (shutdown).

        """
        if not self._messages and not self.closed:
            self._wakeup.clear()
            # asyncio.timeout, not wait_for: no task of its own for every wait.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()
        if self._messages:
            return self._messages.popleft()
        if self.closed:
            raise HubClosedError
        return None

    def take_dropped(self) -> int:
        dropped, self.dropped = self.dropped, 0
        return dropped

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
