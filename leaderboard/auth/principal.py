"""Who is calling: the admin, a player with a live session, or nobody (401)."""

from __future__ import annotations

import hmac
from typing import Any

import msgspec
from litestar import Request

from leaderboard.auth.sessions import SessionStore
from leaderboard.errors import AuthenticationError, PermissionDeniedError


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


def bearer_token(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationError("missing Authorization header: expected 'Bearer <token>'")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("malformed Authorization header: expected 'Bearer <token>'")
    return token


class Authenticator:
    """Tells who a request comes from; behind the ``principal`` dependency (plugin.py)."""

    def __init__(self, sessions: SessionStore, admin_token: str | None) -> None:
        self._sessions = sessions
        self._admin_token = admin_token

    async def authenticate(self, request: Request[Any, Any, Any]) -> Principal:
        """The caller: 401 for a missing, malformed or unknown token."""
        token = bearer_token(request)
        admin = self._admin_token
        if admin is not None and hmac.compare_digest(token.encode(), admin.encode()):
            return Principal(player_id=None, token=token, is_admin=True)
        player_id = await self._sessions.resolve(token)
        if player_id is None:
            raise AuthenticationError("unknown or expired token")
        return Principal(player_id=player_id, token=token)
