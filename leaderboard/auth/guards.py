"""Litestar guards: who may call a route, decided before its handler runs.

A guard authenticates the caller once (the :class:`Authenticator` that the app keeps in
its state under :data:`AUTHENTICATOR`) and leaves the :class:`Principal` where Litestar
keeps a request's authentication: handlers read it as ``request.auth``. Routes without a
guard need no token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from leaderboard.auth.principal import Authenticator, Principal
from leaderboard.lib.ids import canonical_player_id

# The app state key under which the infrastructure plugin puts the worker's Authenticator.
AUTHENTICATOR = "leaderboard.authenticator"

Connection = ASGIConnection[Any, Any, Any, Any]


def authenticator_of(connection: Connection) -> Authenticator:
    return cast("Authenticator", connection.app.state[AUTHENTICATOR])


async def principal_of(connection: Connection) -> Principal:
    """The caller, authenticated on first use (401 without a valid token)."""
    known = connection.scope.get("auth")
    if isinstance(known, Principal):
        return known
    principal = await authenticator_of(connection).authenticate(connection)
    connection.scope["auth"] = principal
    return principal


async def authenticated(connection: Connection, _: BaseRouteHandler) -> None:
    """Any valid token; the handler decides what it may do (``request.auth``)."""
    await principal_of(connection)


def authenticate_leaving_session_unchecked(
    body_type: type[msgspec.Struct],
) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """A submission route's authentication, leaving the session to the route's Redis call.

    Litestar calls each guard with a copy of the route handler (``copy(self)`` per guard
    per request): 2.9 % of a submitting worker's busy CPU in the benchmark's profile. The
    hook runs at the same point (before the body is parsed) without the copy; returning
    None lets the handler run.

    A player whose session this worker does not know is not looked up here: the route's
    service checks it in the call it makes anyway (the admission of a board's or a
    league's submission: scores/admit.lua, leagues/admit.lua), which saves that request a
    round trip. So that a bad token stays a 401 whatever the body, a body that would not
    decode as ``body_type`` (strictly) has the session checked here, and the handler calls
    :func:`confirm_session` before any other refusal.
    """

    async def authenticate(request: Request[Any, Any, Any]) -> None:
        if isinstance(request.scope.get("auth"), Principal):
            return
        authenticator = authenticator_of(request)
        principal = await authenticator.authenticate(request, leave_unchecked=True)
        if principal.unchecked is not None:
            try:
                await request.body()  # kept: the handler's parsing reads it from here
            except Exception:  # too large, or the client left: check the token first
                request.scope["auth"] = await authenticator.authenticate(request)
                raise
            try:
                msgspec.convert(await request.json(), body_type, strict=True)
            except Exception:  # refused for its body later: check the token first
                principal = await authenticator.authenticate(request)
        request.scope["auth"] = principal

    return authenticate


async def confirm_session(connection: Connection) -> None:
    """401 if the caller's session, left unchecked, is not live; call it before refusing."""
    principal = connection.scope.get("auth")
    if isinstance(principal, Principal):
        await authenticator_of(connection).confirm(principal)


async def admin_only(connection: Connection, _: BaseRouteHandler) -> None:
    (await principal_of(connection)).require_admin()


async def player_only(connection: Connection, _: BaseRouteHandler) -> None:
    (await principal_of(connection)).require_player()


async def self_or_admin(connection: Connection, _: BaseRouteHandler) -> None:
    """The player named by the path's ``player_id``, or the admin (404 for a malformed id)."""
    principal = await principal_of(connection)
    principal.require_self_or_admin(canonical_player_id(connection.path_params["player_id"]))
