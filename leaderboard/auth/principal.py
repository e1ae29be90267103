"""Who is calling: the admin, a player with a live session, or nobody (401)."""

from __future__ import annotations

import hmac
from typing import Any

import msgspec
from litestar.connection import ASGIConnection

from leaderboard.auth.sessions import SessionStore
from leaderboard.lib.errors import AuthenticationError, InvalidInputError, PermissionDeniedError
from leaderboard.players.ids import canonical_player_id


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    player_id: str | None
    """The player acting; None for the admin."""
    token: str
    is_admin: bool = False

    def require_self_or_admin(self, player_id: str) -> None:
        """403 unless this principal is ``player_id`` or the admin."""
        if not self.is_admin and self.player_id != player_id:
            raise PermissionDeniedError("a player may only change their own profile")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDeniedError("this call needs the admin token")

    def require_player(self) -> str:
        if self.player_id is None:
            raise PermissionDeniedError("this call needs a player session, not the admin token")
        return self.player_id

    def submitting_for(self, requested: str | None) -> str:
        """Whose score a submission is: the admin names the player, a player is themself."""
        if self.is_admin:
            if requested is None:
                raise InvalidInputError("player_id", "required when submitting as the admin")
            return requested
        player_id = self.require_player()
        if requested is not None and canonical_player_id(requested) != player_id:
            raise PermissionDeniedError("a player may only submit their own scores")
        return player_id


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization")
    if not header:
        raise AuthenticationError("missing Authorization header: expected 'Bearer <token>'")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("malformed Authorization header: expected 'Bearer <token>'")
    return token


class Authenticator:
    """Tells who a request comes from; the guards (guards.py) ask it."""

    def __init__(self, sessions: SessionStore, admin_token: str | None) -> None:
        self._sessions = sessions
        self._admin_token = admin_token

    async def authenticate(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
        """The caller: 401 for a missing, malformed or unknown token."""
        token = bearer_token(connection)
        admin = self._admin_token
        if admin is not None and hmac.compare_digest(token.encode(), admin.encode()):
            return Principal(player_id=None, token=token, is_admin=True)
        player_id = await self._sessions.resolve(token)
        if player_id is None:
            raise AuthenticationError("unknown or expired token")
        return Principal(player_id=player_id, token=token)
