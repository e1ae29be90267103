"""Player sessions in Redis: opaque bearer tokens, sliding expiry, an absolute maximum.

A token is ``<player id>.<43 url-safe characters>`` (256 random bits from ``secrets``).
Redis keeps only its SHA-256, in a hash whose TTL slides forward on use (at most once a
minute) but never past the session's absolute maximum age. The player id in the token
routes the lookup to the player's hash tag, so creating, ending one, and ending all of a
player's sessions are each one atomic script, also on a Redis Cluster.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from leaderboard.keys import Keys
from leaderboard.redis_client import AnyRedis
from leaderboard.redis_pipeline import ScriptPipeline

_TOKEN = re.compile(
    r"^(?P<player>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"\.(?P<secret>[A-Za-z0-9_-]{43})$"
)
# A busy client would otherwise rewrite its session on every request.
REFRESH_INTERVAL_MS = 60_000

_SCRIPTS = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ParsedToken:
    player_id: str
    token_hash: str


def parse_token(token: str) -> ParsedToken | None:
    """The player id and hash of a well-formed token; None when it is malformed."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    return ParsedToken(match["player"], hashlib.sha256(token.encode()).hexdigest())


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class SessionStore:
    def __init__(
        self,
        redis: AnyRedis,
        keys: Keys,
        *,
        ttl_seconds: float,
        max_age_seconds: float,
        refresh_interval_ms: int = REFRESH_INTERVAL_MS,
        pipeline: ScriptPipeline | None = None,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl_ms = int(ttl_seconds * 1000)
        self._max_age_ms = int(max_age_seconds * 1000)
        self._refresh_interval_ms = refresh_interval_ms
        # Every authenticated request resolves its token: those share pipelines.
        self._pipeline = pipeline or ScriptPipeline(redis)
        self._create = redis.register_script((_SCRIPTS / "session_create.lua").read_text())
        self._touch = redis.register_script((_SCRIPTS / "session_touch.lua").read_text())
        self._end = redis.register_script((_SCRIPTS / "session_end.lua").read_text())

    async def create(self, player_id: str) -> NewSession:
        token = f"{player_id}.{secrets.token_urlsafe(32)}"
        parsed = parse_token(token)
        assert parsed is not None
        expires_ms = await self._create(
            keys=[
                self._keys.session(player_id, parsed.token_hash),
                self._keys.player_sessions(player_id),
            ],
            args=[
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
        parsed = parse_token(token)
        if parsed is None:
            return None
        reply = await self._pipeline.run(
            self._touch,
            [self._keys.session(parsed.player_id, parsed.token_hash)],
            [self._ttl_ms, self._refresh_interval_ms],
        )
        if not reply:
            return None
        player_id = str(reply[0])
        # The stored owner must be the one the token names; a mismatch is a forgery.
        return player_id if player_id == parsed.player_id else None

    async def end(self, token: str) -> bool:
        """End one session at once; False when it did not exist."""
        parsed = parse_token(token)
        if parsed is None:
            return False
        deleted = await self._end(
            keys=[self._keys.player_sessions(parsed.player_id)],
            args=[self._keys.session_prefix(parsed.player_id), parsed.token_hash],
        )
        return int(deleted) > 0

    async def end_all(self, player_id: str) -> int:
        """End every session of a player; returns how many there were."""
        deleted = await self._end(
            keys=[self._keys.player_sessions(player_id)],
            args=[self._keys.session_prefix(player_id), ""],
        )
        return int(deleted)
