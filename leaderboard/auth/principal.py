"""Who is calling: the admin, a player with a live session, or nobody (401)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar.connection import ASGIConnection

from leaderboard.auth.sessions import SessionStore, UncheckedSession
from leaderboard.lib.errors import AuthenticationError, InvalidInputError, PermissionDeniedError
from leaderboard.lib.ids import canonical_player_id


class ServerKeyGrant(msgspec.Struct, frozen=True, kw_only=True):
    """What a valid server key may do: submit for players on its boards (None: every board)."""

    id: str
    name: str
    leaderboards: tuple[str, ...] | None


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    player_id: str | None
    """The player acting; None for the admin and for a server key."""
    token: str
    is_admin: bool = False
    server_key: ServerKeyGrant | None = None
    """Set when a game server calls with one of its keys."""
    unchecked: UncheckedSession | None = None
    """Set when the player's session is left to the route's own Redis call to check
    (:meth:`Authenticator.authenticate`); ``player_id`` is then the one the token names."""

    @property
    def actor(self) -> str | None:
        """Who the audit log names for this caller's writes; None for a player."""
        if self.is_admin:
            return "admin"
        if self.server_key is not None:
            return f"server-key:{self.server_key.id}"
        return None

    def require_self_or_admin(self, player_id: str) -> None:
        """403 unless this principal is ``player_id`` or the admin."""
        if not self.is_admin and self.player_id != player_id:
            raise PermissionDeniedError("a player may only change their own profile")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDeniedError("this call needs the admin token")

    def require_player(self) -> str:
        if self.player_id is None:
            raise PermissionDeniedError("this call needs a player session")
        return self.player_id

    def submitting_for(self, requested: str | None, board_id: str) -> str:
        """Whose score a submission is; 403 for a server key outside its boards.

        The admin and a server key name the player (``player_id``); a player is themself.
        """
        if self.server_key is not None:
            boards = self.server_key.leaderboards
            if boards is not None and board_id not in boards:
                raise PermissionDeniedError("this server key may not submit to this leaderboard")
        return self._whose(requested)

    def submitting_for_league(self, requested: str | None) -> str:
        """Whose league score a submission is, as :meth:`submitting_for`.

        A server key limited to a list of leaderboards may not submit to leagues (403).
        """
        if self.server_key is not None and self.server_key.leaderboards is not None:
            raise PermissionDeniedError(
                "this server key is limited to some leaderboards; leagues take keys made "
                "for every board"
            )
        return self._whose(requested)

    def _whose(self, requested: str | None) -> str:
        if self.is_admin or self.server_key is not None:
            if requested is None:
                raise InvalidInputError("player_id", "required when submitting for a player")
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


SESSION_REFUSED = "unknown or expired token"
# Server keys are told apart from session tokens by this prefix (server_keys/store.py).
SERVER_KEY_PREFIX = "lbk_"
# Finds the grant of a server key; None for an unknown or revoked one.
ServerKeyResolver = Callable[[str], Awaitable[ServerKeyGrant | None]]


class Authenticator:
    """Tells who a request comes from; the guards (guards.py) ask it."""

    def __init__(
        self,
        sessions: SessionStore,
        admin_token: str | None,
        server_keys: ServerKeyResolver | None = None,
    ) -> None:
        self._sessions = sessions
        self._admin_token = admin_token
        self.server_keys = server_keys
        """How a server key is resolved (the server_keys feature plugs it in); None: never."""

    async def authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any], *, leave_unchecked: bool = False
    ) -> Principal:
        """The caller: 401 for a missing, malformed or unknown token.

        With ``leave_unchecked``, a player's session that this worker does not know is not
        looked up: the principal carries it (``unchecked``) for the route's one Redis call
        to check (the score submission's admission), and :meth:`confirm` checks it before
        any other refusal is answered.
        """
        token = bearer_token(connection)
        admin = self._admin_token
        if admin is not None and hmac.compare_digest(token.encode(), admin.encode()):
            return Principal(player_id=None, token=token, is_admin=True)
        if token.startswith(SERVER_KEY_PREFIX) and self.server_keys is not None:
            grant = await self.server_keys(token)
            if grant is None:
                raise AuthenticationError("unknown or revoked server key")
            return Principal(player_id=None, token=token, server_key=grant)
        if leave_unchecked:
            found = self._sessions.known_or_unchecked(token)
            if isinstance(found, UncheckedSession):
                return Principal(player_id=found.player_id, token=token, unchecked=found)
            player_id = found
        else:
            player_id = await self._sessions.resolve(token)
        if player_id is None:
            raise AuthenticationError(SESSION_REFUSED)
        return Principal(player_id=player_id, token=token)

    async def confirm(self, principal: Principal) -> None:
        """401 if ``principal``'s session, left unchecked, is not live (checked now if need be).

        A refusal of a request whose session was left unchecked calls this first: a bad
        token is a 401 whatever else was wrong with the request.
        """
        session = principal.unchecked
        if session is None or session.live:
            return
        if session.live is None and await self._sessions.resolve(principal.token) is not None:
            session.live = True
            return
        raise AuthenticationError(SESSION_REFUSED)
