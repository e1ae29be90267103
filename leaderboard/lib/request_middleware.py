"""One ASGI layer per request for what every request needs: its id and its metrics.

Each layer a request passes through costs the worker CPU on every request, so the id
(for logs and the ``X-Request-ID`` header) and the per-route metrics share one layer
and one wrapped ``send``, in place of a layer each (Litestar's Prometheus middleware
measured ~4 % of a rank lookup's CPU on its own, docs/benchmarks.md).

The layer also notes a client that hangs up before its request body is whole (see
:func:`client_hung_up`): Litestar then raises a bare 500 ``InternalServerException``
("client disconnected prematurely"), which the error handlers log as one line instead
of a bug's traceback. Only requests that may carry a body get the wrapped ``receive``.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

from leaderboard.lib.logs import REQUEST_ID
from leaderboard.lib.metric_buffer import BufferedCounter, BufferedGauge, BufferedHistogram
from leaderboard.lib.metrics import BUFFER, PREFIX

REQUESTS = Counter(
    f"{PREFIX}_requests_total",
    "HTTP requests by method, route template and status code.",
    ["method", "path", "status_code"],
)
DURATION = Histogram(
    f"{PREFIX}_request_duration_seconds",
    "HTTP request duration in seconds, by method, route template and status code.",
    ["method", "path", "status_code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
IN_PROGRESS = Gauge(
    f"{PREFIX}_requests_in_progress",
    "HTTP requests being served now, by method and route template.",
    ["method", "path"],
    multiprocess_mode="livesum",
)
# Not counted: the scrape itself.
UNCOUNTED = frozenset({"/metrics"})
# Requests that never carry a body: their ``receive`` is left alone.
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})
# Key in the scope's state: the client hung up before its request body was whole.
_HUNG_UP = "leaderboard.client_hung_up"

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Request ids: unique per process (a random prefix) and cheap (a counter), where a UUID
# per request cost ~2 % of a rank lookup.
_ID_PREFIX = secrets.token_hex(4)
_ID_COUNTER = itertools.count(1)


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER):x}"


# (method, path, status) → the buffered metric children, looked up once per key.
_Children = tuple[BufferedCounter, BufferedHistogram]
_children: dict[tuple[str, str, int], _Children] = {}
_gauges: dict[tuple[str, str], BufferedGauge] = {}


def _children_of(method: str, path: str, status: int) -> _Children:
    key = (method, path, status)
    found = _children.get(key)
    if found is None:
        code = str(status)
        found = _children[key] = (
            BUFFER.counter(REQUESTS, method, path, code),
            BUFFER.histogram(DURATION, method, path, code),
        )
    return found


def client_hung_up(scope: Scope) -> bool:
    """Whether the client of this request hung up before its request body was whole."""
    return bool(scope.get("state", {}).get(_HUNG_UP))


def _noting_hang_ups(scope: Scope, receive: Receive) -> Receive:
    """``receive``, noting in the scope a disconnect that comes before the body's end."""
    whole = False

    async def receive_noting() -> ReceiveMessage:
        nonlocal whole
        message = await receive()
        if message["type"] == "http.request":
            whole = whole or not message.get("more_body", False)
        elif message["type"] == "http.disconnect" and not whole:
            scope.setdefault("state", {})[_HUNG_UP] = True
        return message

    return receive_noting


def request_middleware(app: ASGIApp) -> ASGIApp:
    """Give each HTTP/WebSocket request an id; count and time each HTTP request per route."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        request_id = given if given and _SAFE_REQUEST_ID.fullmatch(given) else new_request_id()
        header = (b"x-request-id", request_id.encode())
        token = REQUEST_ID.set(request_id)
        path = scope.get("path_template") or scope["path"]
        counted = scope["type"] == ScopeType.HTTP and path not in UNCOUNTED
        if scope["type"] == ScopeType.HTTP and scope.get("method") not in _BODILESS:
            receive = _noting_hang_ups(scope, receive)
        status = 500  # what an exception that escapes every handler becomes

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        if not counted:
            try:
                await app(scope, receive, send_with_id)
            finally:
                REQUEST_ID.reset(token)
            return
        method = str(scope.get("method", ""))
        gauge = _gauges.get((method, path))
        if gauge is None:
            gauge = _gauges[(method, path)] = BUFFER.gauge(IN_PROGRESS, method, path)
        gauge.inc()
        started = time.perf_counter()
        try:
            await app(scope, receive, send_with_id)
        finally:
            gauge.dec()
            requests, duration = _children_of(method, path, status)
            requests.inc()
            duration.observe(time.perf_counter() - started)
            REQUEST_ID.reset(token)

    return middleware
