"""Server keys: credentials for game servers, instead of the admin token.

A key is ``lbk_<id, 32 hex>.<secret, 43 url-safe characters>``; Postgres keeps its id,
name, boards and the SHA-256 of the secret, never the secret. Every call a game server
makes resolves its key through Redis (one script call, shared pipelines), which holds the
grant for ten minutes and is filled from Postgres only where nothing is held: a
revocation writes ``revoked`` there before it commits, so it works at once in every
worker and instance.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from leaderboard.audit.repository import AuditLog
from leaderboard.auth.principal import SERVER_KEY_PREFIX, ServerKeyGrant
from leaderboard.lib.db import Database
from leaderboard.lib.errors import InvalidInputError, NotFoundError
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.scripts import LuaScript, ScriptPipeline
from leaderboard.server_keys.models import ServerKey, ServerKeyCreate

logger = logging.getLogger(__name__)

GRANTS = LuaScript.load(__package__, "grant_cache.lua")
_KEY = re.compile(rf"^{SERVER_KEY_PREFIX}(?P<id>[0-9a-f]{{32}})\.(?P<secret>[A-Za-z0-9_-]{{43}})$")
GRANT_TTL_MS = 600_000
MISSING_TTL_MS = 60_000
# Raises NotFoundError for a board that does not exist.
BoardLookup = Callable[[str], Awaitable[object]]


class _Cached(msgspec.Struct):
    h: str  # hex SHA-256 of the secret
    n: str
    b: list[str] | None


def _secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class ServerKeyStore:
    def __init__(
        self,
        db: Database,
        pipeline: ScriptPipeline,
        keys: Keys,
        audit: AuditLog,
        board_lookup: BoardLookup,
    ) -> None:
        self._db = db
        self._keys = keys
        self._audit = audit
        self._board_lookup = board_lookup
        self._grants = pipeline.bind(GRANTS)

    async def create(self, spec: ServerKeyCreate, actor: str) -> ServerKey:
        boards = None if spec.leaderboards is None else list(dict.fromkeys(spec.leaderboards))
        for board_id in boards or []:
            try:
                await self._board_lookup(board_id)
            except NotFoundError:
                raise InvalidInputError("leaderboards", f"no leaderboard {board_id!r}") from None
        key_id, secret = uuid.uuid4().hex, secrets.token_urlsafe(32)
        async with self._db.transaction() as conn:
            row = await conn.fetchrow(
                """
                INSERT INTO server_keys (id, name, secret_hash, leaderboards)
                VALUES ($1, $2, $3, $4) RETURNING created_at
                """,
                uuid.UUID(key_id),
                spec.name,
                _secret_hash(secret),
                boards,
            )
            assert row is not None
            await self._audit.record(
                conn,
                actor=actor,
                action="server_key.create",
                target=f"server-key:{key_id}",
                details={"name": spec.name, "leaderboards": boards},
            )
        return ServerKey(
            id=key_id,
            name=spec.name,
            leaderboards=boards,
            created_at=row["created_at"],
            key=f"{SERVER_KEY_PREFIX}{key_id}.{secret}",
        )

    async def list(self) -> list[ServerKey]:
        rows = await self._db.fetch(
            """
            SELECT id, name, leaderboards, created_at FROM server_keys
             WHERE revoked_at IS NULL ORDER BY created_at, id
            """
        )
        return [
            ServerKey(
                id=row["id"].hex,
                name=row["name"],
                leaderboards=row["leaderboards"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    async def revoke(self, key_id: str, actor: str) -> None:
        if not re.fullmatch(r"[0-9a-f]{32}", key_id):
            raise NotFoundError(f"no server key {key_id[:40]!r}")
        async with self._db.transaction() as conn:
            revoked = await conn.fetchval(
                """
                UPDATE server_keys SET revoked_at = now()
                 WHERE id = $1 AND revoked_at IS NULL RETURNING name
                """,
                uuid.UUID(key_id),
            )
            if revoked is None:
                raise NotFoundError(f"no server key {key_id!r}")
            await self._audit.record(
                conn,
                actor=actor,
                action="server_key.revoke",
                target=f"server-key:{key_id}",
                details={"name": revoked},
            )
            # Before the commit: if Redis cannot be told, the key is not revoked (503).
            await self._grants([self._keys.server_key(key_id)], ["revoke", GRANT_TTL_MS])

    async def resolve(self, token: str) -> ServerKeyGrant | None:
        """The grant of a valid key; None for a malformed, unknown or revoked one."""
        match = _KEY.fullmatch(token)
        if match is None:
            return None
        key_id = match["id"]
        redis_key = self._keys.server_key(key_id)
        raw = await self._grants([redis_key], ["get"])
        if raw is None:
            raw = await self._load(key_id)
            await self._fill(redis_key, raw)
        if raw in ("revoked", "missing"):
            return None
        cached = msgspec.json.decode(raw, type=_Cached)
        if not hmac.compare_digest(bytes.fromhex(cached.h), _secret_hash(match["secret"])):
            return None
        boards = None if cached.b is None else tuple(cached.b)
        return ServerKeyGrant(id=key_id, name=cached.n, leaderboards=boards)

    async def _load(self, key_id: str) -> str:
        row = await self._db.fetchrow(
            "SELECT name, secret_hash, leaderboards, revoked_at FROM server_keys WHERE id = $1",
            uuid.UUID(key_id),
        )
        if row is None:
            return "missing"
        if row["revoked_at"] is not None:
            return "revoked"
        grant = _Cached(h=bytes(row["secret_hash"]).hex(), n=row["name"], b=row["leaderboards"])
        return msgspec.json.encode(grant).decode()

    async def _fill(self, redis_key: str, raw: str) -> None:
        ttl = MISSING_TTL_MS if raw == "missing" else GRANT_TTL_MS
        args: list[Any] = ["fill", raw, ttl]
        try:
            await self._grants([redis_key], args)
        except REDIS_OUTAGE_ERRORS as exc:  # the next call reads Postgres again
            logger.warning("cannot cache a server key's grant: %s", exc)
