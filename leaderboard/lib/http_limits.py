"""uvicorn's httptools protocol plus a request-head deadline and a drain notice.

**Request-head deadline.** uvicorn (0.54) closes a kept-alive connection that stays idle
for ``timeout_keep_alive``, but it has no limit on how long a request head may take: a
connection that sends nothing, or half a request line, or one header byte every few
seconds, is held open for ever (slowloris), and its keep-alive timer is cancelled by any
byte. Here every request head must be complete within
``LEADERBOARD_HTTP_HEADER_TIMEOUT_SECONDS`` of its first byte (of the connection, for the
first request); otherwise the connection is closed (with a 408 if some of it arrived).

**Drain notice.** On Ctrl-C / SIGTERM uvicorn calls each connection's ``shutdown()`` and
waits ``timeout_graceful_shutdown`` for responses to finish, and only then runs the app's
lifespan shutdown. An endless response (an SSE stream) never finishes by itself, so the
app would hear of the shutdown only after the timeout, through cancellation. ``shutdown()``
here also sets an :class:`asyncio.Event` that the app finds in ``scope["state"]`` under
:data:`SERVER_DRAINING` (:func:`server_draining`): endless responses end when it is set.

Use it with ``uvicorn.Config(http="leaderboard.lib.http_limits:LimitedHttpToolsProtocol")``
(an import string, so that worker processes can load it too).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from leaderboard.lib.settings import Settings

logger = logging.getLogger(__name__)

# The key of the drain event in the ASGI lifespan state (hence in every scope["state"]).
SERVER_DRAINING = "leaderboard.server_draining"

_REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def server_draining(scope: Mapping[str, Any]) -> asyncio.Event | None:
    """The event set when the server starts shutting down, if it is set up to say so.

    None when the app is not served by :class:`LimitedHttpToolsProtocol`; then the app
    hears of a shutdown only from its lifespan.
    """
    state = scope.get("state")
    event = state.get(SERVER_DRAINING) if isinstance(state, dict) else None
    return event if isinstance(event, asyncio.Event) else None


@functools.cache
def configured_header_timeout() -> float:
    """``LEADERBOARD_HTTP_HEADER_TIMEOUT_SECONDS`` (the workers' settings come from there)."""
    return Settings.from_env().http_header_timeout_seconds


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    header_timeout: ClassVar[float | None] = None
    """Seconds a request head may take; None: from the settings (environment)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        timeout = self.header_timeout
        self._head_timeout = configured_header_timeout() if timeout is None else timeout
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = False  # some of the awaited head arrived (answer 408, not silence)
        self._in_head = True  # bytes received now belong to a request head
        # One event per server: the lifespan state is shared by all its connections, and
        # each request's scope["state"] is a shallow copy of it made after this runs.
        self._draining: asyncio.Event = app_state.setdefault(SERVER_DRAINING, asyncio.Event())

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Bytes between requests (even stray CRLFs, which start no message) cancel uvicorn's
        # keep-alive timer: from the first of them the next head is on the clock.
        if self._in_head:
            self._head_bytes = True
            if self._head_timer is None:
                self._arm_head_timer()
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # what comes next is the next request's head

    def shutdown(self) -> None:
        super().shutdown()
        self._draining.set()

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self._head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A response is still going out while the next (pipelined) head is late: let
            # the response finish, then close instead of waiting for the rest of the head.
            self.cycle.keep_alive = False
            return
        logger.debug("closing %s: no complete request head in %gs", self.client, self._head_timeout)
        if self._head_bytes:
            self.transport.write(_REQUEST_TIMEOUT)
        self.transport.close()
