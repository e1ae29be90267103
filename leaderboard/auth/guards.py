"""Litestar guards: who may call a route, decided before its handler runs.

A guard authenticates the caller once (the :class:`Authenticator` that the app keeps in
its state under :data:`AUTHENTICATOR`) and leaves the :class:`Principal` where Litestar
keeps a request's authentication: handlers read it as ``request.auth``. Routes without a
guard need no token.
"""

from __future__ import annotations

from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from leaderboard.auth.principal import Authenticator, Principal
from leaderboard.lib.ids import canonical_player_id

# The app state key under which the infrastructure plugin puts the worker's Authenticator.
AUTHENTICATOR = "leaderboard.authenticator"

Connection = ASGIConnection[Any, Any, Any, Any]


async def principal_of(connection: Connection) -> Principal:
    """The caller, authenticated on first use (401 without a valid token)."""
    known = connection.scope.get("auth")
    if isinstance(known, Principal):
        return known
    authenticator = cast("Authenticator", connection.app.state[AUTHENTICATOR])
    principal = await authenticator.authenticate(connection)
    connection.scope["auth"] = principal
    return principal


async def authenticated(connection: Connection, _: BaseRouteHandler) -> None:
    """Any valid token; the handler decides what it may do (``request.auth``)."""
    await principal_of(connection)


async def authenticate_first(request: Connection) -> None:
    """:func:`authenticated` as a ``before_request`` hook, for the submission routes.

    Litestar calls each guard with a copy of the route handler (``copy(self)`` per guard
    per request): 2.9 % of a submitting worker's busy CPU in the benchmark's profile. The
    hook runs at the same point (before the body is read, so a bad token is a 401 whatever
    the body) without the copy; returning None lets the handler run.
    """
    await principal_of(request)


async def admin_only(connection: Connection, _: BaseRouteHandler) -> None:
    (await principal_of(connection)).require_admin()


async def player_only(connection: Connection, _: BaseRouteHandler) -> None:
    (await principal_of(connection)).require_player()


async def self_or_admin(connection: Connection, _: BaseRouteHandler) -> None:
    """The player named by the path's ``player_id``, or the admin (404 for a malformed id)."""
    principal = await principal_of(connection)
    principal.require_self_or_admin(canonical_player_id(connection.path_params["player_id"]))
