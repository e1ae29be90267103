"""Player sessions in Redis: opaque bearer tokens, sliding expiry, an absolute maximum.

A token is ``<player id>.<43 url-safe characters>`` (256 random bits from ``secrets``).
Redis keeps only its SHA-256, in a hash whose TTL slides forward on use (at most once a
minute) but never past the session's absolute maximum age. The player id in the token
routes the lookup to the player's hash tag, so creating, ending one, and ending all of a
player's sessions are each one atomic script, also on a Redis Cluster.

**Known sessions, in the worker.** Resolving a token is a Redis round trip, which costs a
worker more CPU than anything else a small request does (docs/benchmarks.md). So a worker
keeps the sessions it resolved for :data:`LOCAL_SECONDS` (never past their Redis expiry),
and ending a session drops it from every worker's copy before the end is answered: the
end is announced on the invalidation channel (lib/invalidation.py), and every subscribed
worker drops its copies of the player's sessions and confirms. A worker that is not
subscribed at the moment (its subscription broke) uses no copy; one that misses an
announcement (stalled past the announcer's wait) keeps its copy at most LOCAL_SECONDS.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from leaderboard.lib.invalidation import Invalidations
from leaderboard.lib.keys import Keys
from leaderboard.lib.scripts import LuaScript, ScriptPipeline

_TOKEN = re.compile(
    r"^(?P<player>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"\.(?P<secret>[A-Za-z0-9_-]{43})$"
)
# A busy client would otherwise rewrite its session on every request.
REFRESH_INTERVAL_MS = 60_000
LOCAL_SECONDS = 10.0
"""How long a worker uses a session it resolved before asking Redis again."""
# Copies a worker keeps at most (a burst of new tokens empties the copy, nothing else).
LOCAL_MAX = 100_000
INVALIDATION_TOPIC = "sessions"

CREATE = LuaScript.load(__package__, "session_create.lua")
TOUCH = LuaScript.load(__package__, "session_touch.lua", prelude=["session_check.lua"])
END = LuaScript.load(__package__, "session_end.lua")


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ParsedToken:
    player_id: str
    token_hash: str


@dataclass(slots=True)
class UncheckedSession:
    """A player's token that this worker has not checked with Redis yet.

    A score submission leaves the check to its one Redis call before the commit
    (scores/admit.lua): a player whose session the worker does not know then makes one
    round trip there, not two. ``live`` says what that call found (None: not asked yet).
    """

    player_id: str
    token_hash: str
    live: bool | None = None


def parse_token(token: str) -> ParsedToken | None:
    """The player id and hash of a well-formed token; None when it is malformed."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    return ParsedToken(match["player"], hashlib.sha256(token.encode()).hexdigest())


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class SessionStore:
    def __init__(
        self,
        pipeline: ScriptPipeline,
        keys: Keys,
        *,
        ttl_seconds: float,
        max_age_seconds: float,
        refresh_interval_ms: int = REFRESH_INTERVAL_MS,
        invalidations: Invalidations | None = None,
        local_seconds: float = LOCAL_SECONDS,
    ) -> None:
        self._keys = keys
        # token hash → (player id, until when, on the monotonic clock); by player, the
        # hashes to drop when their sessions end.
        self._known: dict[str, tuple[str, float]] = {}
        self._by_player: dict[str, set[str]] = {}
        self._local_seconds = local_seconds if invalidations is not None else 0.0
        self._invalidations = invalidations
        if invalidations is not None:
            invalidations.register(INVALIDATION_TOPIC, self._forget, self._forget_all)
        self._ttl_ms = int(ttl_seconds * 1000)
        self._max_age_ms = int(max_age_seconds * 1000)
        self._refresh_interval_ms = refresh_interval_ms
        # Every authenticated request resolves its token: those share pipelines.
        self._create = pipeline.bind(CREATE)
        self._touch = pipeline.bind(TOUCH)
        self._end = pipeline.bind(END)

    async def create(self, player_id: str) -> NewSession:
        token = f"{player_id}.{secrets.token_urlsafe(32)}"
        parsed = parse_token(token)
        assert parsed is not None
        expires_ms = await self._create(
            [
                self._keys.session(player_id, parsed.token_hash),
                self._keys.player_sessions(player_id),
            ],
            [
                player_id,
                self._ttl_ms,
                self._max_age_ms,
                parsed.token_hash,
                self._keys.session_prefix(player_id),
            ],
        )
        return NewSession(token, _from_ms(int(expires_ms)))

    async def resolve(self, token: str) -> str | None:
        """The player id of a live session (sliding its expiry), or None."""
        found = self.known_or_unchecked(token)
        if not isinstance(found, UncheckedSession):
            return found
        reply = await self._touch(
            [self._keys.session(found.player_id, found.token_hash)],
            [self._ttl_ms, self._refresh_interval_ms],
        )
        # The stored owner must be the one the token names; a mismatch is a forgery.
        if not reply or str(reply[0]) != found.player_id:
            return None
        self._keep(found.player_id, found.token_hash, int(reply[1]))
        return found.player_id

    def known_or_unchecked(self, token: str) -> str | UncheckedSession | None:
        """The player of a session this worker knows, else the token left to check.

        None for a malformed token (no session can match it).
        """
        parsed = parse_token(token)
        if parsed is None:
            return None
        known = self._known_player(parsed)
        if known is not None:
            return known
        return UncheckedSession(parsed.player_id, parsed.token_hash)

    def check_call(self, session: UncheckedSession) -> tuple[str, list[str | int]]:
        """The session's key and the arguments with which a script checks it.

        The script runs ``check_session`` (session_check.lua) with the session's key and
        the last two arguments, and compares the owner it finds with the first.
        """
        key = self._keys.session(session.player_id, session.token_hash)
        return key, [session.player_id, self._ttl_ms, self._refresh_interval_ms]

    def checked(self, session: UncheckedSession, ttl_ms: int | None) -> None:
        """What a script's check found: live with ``ttl_ms`` left (kept), or None: not."""
        session.live = ttl_ms is not None
        if ttl_ms is not None:
            self._keep(session.player_id, session.token_hash, ttl_ms)

    def _known_player(self, parsed: ParsedToken) -> str | None:
        known = self._known.get(parsed.token_hash)
        if known is not None and known[1] > time.monotonic() and self._copies_trusted():
            return known[0]
        return None

    async def end(self, token: str) -> bool:
        """End one session at once, in every worker; False when it did not exist."""
        parsed = parse_token(token)
        if parsed is None:
            return False
        deleted = await self._end(
            [self._keys.player_sessions(parsed.player_id)],
            [self._keys.session_prefix(parsed.player_id), parsed.token_hash],
        )
        await self._announce(parsed.player_id)
        return int(deleted) > 0

    async def end_all(self, player_id: str) -> int:
        """End every session of a player, in every worker; returns how many there were."""
        deleted = await self._end(
            [self._keys.player_sessions(player_id)], [self._keys.session_prefix(player_id), ""]
        )
        await self._announce(player_id)
        return int(deleted)

    def _copies_trusted(self) -> bool:
        """Copies are used only while this worker hears every end announced."""
        return self._invalidations is not None and self._invalidations.connected.is_set()

    def _keep(self, player_id: str, token_hash: str, ttl_ms: int) -> None:
        if self._local_seconds <= 0:
            return
        if len(self._known) >= LOCAL_MAX:
            self._forget_all()
        until = time.monotonic() + min(self._local_seconds, ttl_ms / 1000)
        self._known[token_hash] = (player_id, until)
        self._by_player.setdefault(player_id, set()).add(token_hash)

    async def _announce(self, player_id: str) -> None:
        if self._invalidations is None:
            return
        await self._invalidations.announce(INVALIDATION_TOPIC, player_id)

    def _forget(self, player_id: str) -> None:
        for token_hash in self._by_player.pop(player_id, ()):
            self._known.pop(token_hash, None)

    def _forget_all(self) -> None:
        self._known.clear()
        self._by_player.clear()
