"""Browser pages of other origins: Litestar's CORS, set up from ``LEADERBOARD_CORS_ORIGINS``.

Litestar's own layer (:class:`~litestar.config.cors.CORSConfig`, given to the app) answers
preflights and adds ``Access-Control-*`` headers. It wraps the whole app, so a preflight
(an ``OPTIONS`` with an ``Origin``) never reaches ``allow_methods_middleware``; a plain
``OPTIONS`` still does. Three things it does not do, done here:

- :func:`cors_headers_hook` leaves the ``Access-Control-*`` headers off answers to an
  origin that is not allowed (Litestar adds some to every answer with an ``Origin``), and
  under ``*`` off every write's answer, so ``*`` grants reads only, even to the writes a
  browser sends without a preflight.
- :func:`cors_headers_hook` gives a refused preflight the service's error body (Litestar
  answers a ``text/plain`` 400), naming the request header that was refused.
- :func:`same_origin_or_allowed` holds WebSocket upgrades and event streams to the same
  origins: a WebSocket is outside CORS, so a browser lets any page open one.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.config.cors import CORSConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import WebSocketException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Message, Scope

from leaderboard.lib.errors import PermissionDeniedError

# What a page may read of an answer besides the CORS-safelisted headers: the throttle's
# and the idempotency replay's headers, and the request id to quote in a bug report.
EXPOSED_HEADERS = [
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Idempotent-Replayed",
    "X-Request-ID",
]
# Request headers a page may send besides the safelisted ones (Accept, Content-Type …):
# the token, a submission's idempotency key, an event stream's resume point.
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"]
WRITE_METHODS = ["DELETE", "PATCH", "POST"]
READ_METHODS = ["GET", "HEAD"]
ANY_ORIGIN = "*"
WS_POLICY_VIOLATION = 1008
# How long a browser may reuse a preflight's answer (Chrome caps it at 2 hours).
PREFLIGHT_MAX_AGE = 3600


def cors_config(origins: tuple[str, ...]) -> CORSConfig | None:
    """The app's CORS settings for ``LEADERBOARD_CORS_ORIGINS``; None: no cross-origin access.

    Listed origins may read and write; ``*`` (alone, see settings.py) lets any page read.
    Credentials (cookies) are never allowed: the API authenticates with a bearer token
    that the page sends itself in ``Authorization``.
    """
    if not origins:
        return None
    methods: list[Any] = [*READ_METHODS, "OPTIONS"]
    if origins != (ANY_ORIGIN,):
        methods += WRITE_METHODS
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=methods,
        allow_headers=ALLOWED_HEADERS,
        allow_credentials=False,
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_MAX_AGE,
    )


def cors_headers_hook(config: CORSConfig) -> Any:
    """A ``before_send`` hook that corrects Litestar's CORS answers (see the module doc)."""

    async def hook(message: Message, scope: Scope) -> None:
        if scope["type"] != ScopeType.HTTP:
            return
        if message["type"] == "http.response.body":
            refusal = scope.get("state", {}).get(_REFUSAL)
            if refusal is not None:
                message["body"] = refusal
            return
        if message["type"] != "http.response.start":
            return
        origin = _origin(scope)
        if origin is None:
            return
        method = scope["method"]
        if method == "OPTIONS":  # with an Origin: a preflight, answered by Litestar
            if message["status"] == 400:
                _replace_with_error_body(message, scope, config)
            return
        headers = MutableScopeHeaders.from_message(message)
        # Litestar adds these to every answer; they mean something on a preflight only.
        del headers["access-control-allow-headers"]
        del headers["access-control-allow-methods"]
        if not config.is_origin_allowed(origin) or (
            config.is_allow_all_origins and method not in READ_METHODS
        ):
            for name in [key for key in headers if key.startswith("access-control-")]:
                del headers[name]

    return hook


def _origin(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"origin":
            return value.decode("latin-1")
    return None


_REFUSAL = "leaderboard.cors_refusal"


def _replace_with_error_body(message: Message, scope: Scope, config: CORSConfig) -> None:
    """Litestar's refused preflight (400 ``Disallowed CORS …``), in the service's error shape.

    The check is Litestar's; this only names the request header it refused.
    """
    request = Headers.from_scope(scope)
    origin = request.get("origin", "")
    if not config.is_origin_allowed(origin):
        field, problem = "Origin", f"{origin!r} may not call this service from a browser"
    elif request.get("access-control-request-method", "") not in config.allow_methods:
        method = request.get("access-control-request-method", "")
        field, problem = "Access-Control-Request-Method", f"{method} is not allowed from {origin}"
    else:
        field = "Access-Control-Request-Headers"
        problem = f"allowed: {', '.join(ALLOWED_HEADERS)} and the CORS-safelisted headers"
    detail = f"{field}: {problem}"
    body = msgspec.json.encode(
        {
            "status_code": 400,
            "detail": detail,
            "field": field,
            "errors": [{"field": field, "message": problem}],
        }
    )
    headers = MutableScopeHeaders.from_message(message)
    headers["Content-Type"] = "application/json"
    headers["Content-Length"] = str(len(body))
    scope.setdefault("state", {})[_REFUSAL] = body


async def same_origin_or_allowed(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard of the WebSocket and SSE endpoints: refuse a browser page of another origin.

    A request without ``Origin`` is not from a browser page (a game server, ``leaderboard
    watch``, curl): allowed. A page of the service itself (the live page) sends its own
    origin, whose host is the request's ``Host``: allowed. Any other origin must be one
    that CORS allows (``*`` included: reading events is a read). Refused: 403, which a
    WebSocket upgrade gets before it is accepted.
    """
    origin = connection.headers.get("origin")
    if origin is None or _same_host(origin, connection.headers.get("host")):
        return
    config: CORSConfig | None = connection.app.cors_config
    if config is not None and config.is_origin_allowed(origin):
        return
    detail = f"Origin: {origin} may not open event streams here (LEADERBOARD_CORS_ORIGINS)"
    if connection.scope["type"] == ScopeType.WEBSOCKET:
        # Closed before it is accepted: the server refuses the upgrade (HTTP 403).
        raise WebSocketException(detail=detail, code=WS_POLICY_VIOLATION)
    raise PermissionDeniedError(detail)


def _same_host(origin: str, host: str | None) -> bool:
    """Whether the page's origin names the host (and port) the request was sent to.

    The scheme is not compared: behind a TLS proxy the page is ``https://`` while the
    service sees plain HTTP.
    """
    if host is None:
        return False
    _, _, authority = origin.partition("://")
    return authority.lower() == host.lower()
