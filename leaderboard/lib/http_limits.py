"""uvicorn's httptools protocol plus request-head limits and a drain notice.

**Request-head deadline.** uvicorn (0.54) closes a kept-alive connection that stays idle
for ``timeout_keep_alive``, but it has no limit on how long a request head may take: a
connection that sends nothing, or half a request line, or one header byte every few
seconds, is held open for ever (slowloris), and its keep-alive timer is cancelled by any
byte. Here every request head must be complete within
``LEADERBOARD_HTTP_HEADER_TIMEOUT_SECONDS`` of its first byte (of the connection, for the
first request); otherwise the connection is closed (with a 408 if some of it arrived).

**Request-head size.** uvicorn has no limit on a head's size or field count either:
httptools gathers a header value in memory until its line ends, so one 64 MiB header grows
the worker by as much, and 100,000 fields are all parsed and handed to the app. Here a
head larger than :data:`MAX_HEAD_BYTES` or with more than :data:`MAX_HEADER_FIELDS` fields
is answered 431 as soon as that is known, and the app never sees it. Two counts decide:
the parts the parser hands over (request line, target, each whole field; whitespace
around a value is not counted, nor kept), and the raw bytes of the reads that lie wholly
inside one head (a value the parser is still gathering). A head is so refused with at
most about half a MiB of it read (a read is up to 256 KiB), never buffered whole. After
the 431 the connection lingers: what the client still sends is read and dropped for up
to :data:`LINGER_SECONDS` or :data:`LINGER_BYTES`, so that a client that sent its whole
head reads the answer rather than a reset; then it is closed.

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

import msgspec
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from leaderboard.lib.http_writes import CoalescingTransport
from leaderboard.lib.settings import Settings

logger = logging.getLogger(__name__)

# The key of the drain event in the ASGI lifespan state (hence in every scope["state"]).
SERVER_DRAINING = "leaderboard.server_draining"

_REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"

MAX_HEAD_BYTES = 64 * 1024
"""The largest request head served: request line and header fields (the contract's 64 KiB)."""
MAX_HEADER_FIELDS = 100
"""The most header fields a request head may have."""
LINGER_SECONDS = 2.0
"""After a 431: how long what the client still sends is read and dropped before closing."""
LINGER_BYTES = 256 * 1024
"""After a 431: how much of what the client still sends is read and dropped at most."""
# A field's bytes besides its name and value: ": " and CRLF.
_FIELD_OVERHEAD = 4
# A head's bytes besides its target and fields, with a 3-letter method: "GET ",
# " HTTP/1.1\r\n" and the closing CRLF (the method's length is added once it is known).
_HEAD_OVERHEAD = len(b"GET  HTTP/1.1\r\n\r\n")


def _too_large(detail: str) -> bytes:
    """A 431 in the service's error shape (``{"status_code", "detail"}``), closing."""
    body = msgspec.json.encode({"status_code": 431, "detail": detail})
    return (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"content-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


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
        # The head's size so far: the parts the parser handed over (target, whole fields),
        # and the raw bytes of the reads it spans wholly (-1: it began in the current read).
        self._head_parsed = 0
        self._head_read = 0
        self._head_fields = 0
        self._refused = False  # answered 431: what the client still sends is dropped
        self._lingered = 0
        self._linger_timer: asyncio.TimerHandle | None = None
        # One event per server: the lifespan state is shared by all its connections, and
        # each request's scope["state"] is a shallow copy of it made after this runs.
        self._draining: asyncio.Event = app_state.setdefault(SERVER_DRAINING, asyncio.Event())

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # A response's head and body leave in one write (http_writes.py).
        coalescing = CoalescingTransport(transport, self.loop)
        super().connection_made(coalescing)  # type: ignore[arg-type]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            self._linger(len(data))
            return
        # Bytes between requests (even stray CRLFs, which start no message) cancel uvicorn's
        # keep-alive timer: from the first of them the next head is on the clock.
        was_in_head = self._in_head
        if was_in_head:
            self._head_bytes = True
            if self._head_timer is None:
                self._arm_head_timer()
        super().data_received(data)
        if not self._in_head or self._refused:
            return
        if was_in_head and self._head_read >= 0:
            # A read wholly inside one head: it may be part of a field the parser is still
            # gathering, which it hands over only whole.
            self._head_read += len(data)
            self._check_head(self._head_read)
        else:
            # The head began within this read, at a place not known: counted from the next
            # read on (its parts are counted exactly as the parser hands them over).
            self._head_read = 0

    def on_message_begin(self) -> None:
        if self._refused:
            return
        super().on_message_begin()
        self._in_head = True
        self._head_parsed, self._head_fields = _HEAD_OVERHEAD, 0
        self._head_read = -1
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        self._head_parsed += len(url)
        if self._check_head(self._head_parsed):
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refused:
            return
        self._head_fields += 1
        self._head_parsed += len(name) + len(value) + _FIELD_OVERHEAD
        if self._check_head(self._head_parsed):
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_parsed += len(self.parser.get_method()) - 3
        if self._refused or not self._check_head(self._head_parsed):
            return  # the app never sees a refused request
        self._in_head = False
        self._head_bytes = False
        self._head_read = -1
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        super().on_message_complete()
        self._in_head = True  # what comes next is the next request's head

    def _should_upgrade(self) -> bool:
        return not self._refused and super()._should_upgrade()

    def send_400_response(self, msg: str) -> None:
        # The rest of a read that held a refused head may not parse: it was answered.
        if not self._refused:
            super().send_400_response(msg)

    def shutdown(self) -> None:
        super().shutdown()
        self._draining.set()

    def _check_head(self, size: int) -> bool:
        """False (and the request refused) when the head is past a limit."""
        if size > MAX_HEAD_BYTES:
            self._refuse(f"request head larger than {MAX_HEAD_BYTES} bytes")
        elif self._head_fields > MAX_HEADER_FIELDS:
            self._refuse(f"more than {MAX_HEADER_FIELDS} header fields")
        return not self._refused

    def _refuse(self, detail: str) -> None:
        """Answer 431 and close, after reading and dropping a little more (lingering)."""
        self._refused = True
        self._cancel_head_timer()
        logger.info("refusing a request head from %s: %s", self.client, detail)
        if self.transport.is_closing():
            return
        self.transport.write(_too_large(detail))
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the answer, then end of stream; reading goes on
            self._linger_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()

    def _linger(self, dropped: int) -> None:
        self._lingered += dropped
        if self._lingered > LINGER_BYTES:
            self.transport.close()

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
