"""The player cache: one Redis hash per player's profile, filled aside of Postgres, version-guarded.

Reads: ``HGETALL``; a hit is a profile or a cached "no such player"; a miss (or a
tombstone) sends the caller to Postgres, after which it fills the hash through
``profile_fill.lua``, which refuses to replace a newer version. Writers put a tombstone
carrying the new version *before* they commit, so a reader that read the old row can
never write it back; after the commit they fill the new value.

The cache is an optimisation: when Redis fails, reads report a miss (the caller goes to
Postgres) and, for a second, do not even try (so an outage costs no timeouts per read);
writes raise DependencyUnavailableError, so the caller's transaction rolls back.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from redis.asyncio import RedisCluster

from leaderboard.lib.errors import DependencyUnavailableError, outage_reason
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS, AnyRedis
from leaderboard.lib.scripts import LuaScript, ScriptCall, ScriptPipeline
from leaderboard.players.models import Profile

logger = logging.getLogger(__name__)

# A deleted player's entry outranks every real version.
DELETED_VERSION = 2**53 - 1
# Tombstones must outlive the slowest reader between its Postgres read and its fill
# (bounded by the Postgres and Redis timeouts, a few seconds).
TOMBSTONE_TTL_SECONDS = 60
# After a Redis failure, reads skip the cache this long instead of timing out each time.
OUTAGE_BACKOFF_SECONDS = 1.0

FILL = LuaScript.load(__package__, "profile_fill.lua")
NAMES = LuaScript.load(__package__, "profile_names.lua", prelude=["profile_name.lua"])


@dataclass(frozen=True, slots=True)
class Missing:
    """A cached "there is no such player"."""


MISSING = Missing()
CacheResult = Profile | Missing | None  # None: not cached, ask Postgres
NameResult = str | Missing | None


def encode(profile: Profile) -> list[str]:
    """Hash fields of a profile, flattened for HSET (None as "", metadata as JSON)."""
    return [
        "display_name", profile.display_name,
        "avatar_url", profile.avatar_url or "",
        "country", profile.country or "",
        "metadata", msgspec.json.encode(profile.metadata).decode(),
        "created_at", profile.created_at.isoformat(),
        "updated_at", profile.updated_at.isoformat(),
    ]  # fmt: skip


def decode(player_id: str, fields: dict[str, str]) -> CacheResult:
    if not fields or "tomb" in fields:
        return None
    if "missing" in fields:
        return MISSING
    try:
        return Profile(
            player_id=player_id,
            display_name=fields["display_name"],
            avatar_url=fields["avatar_url"] or None,
            country=fields["country"] or None,
            metadata=msgspec.json.decode(fields["metadata"]),
            created_at=datetime.fromisoformat(fields["created_at"]),
            updated_at=datetime.fromisoformat(fields["updated_at"]),
            version=int(fields["v"]),
        )
    except (KeyError, ValueError, msgspec.DecodeError):
        logger.warning("ignoring a malformed profile cache entry for %s", player_id)
        return None


class PlayerCache:
    def __init__(
        self,
        redis: AnyRedis,
        keys: Keys,
        *,
        ttl_seconds: int,
        negative_ttl_seconds: int,
        pipeline: ScriptPipeline,
    ) -> None:
        self._redis = redis
        # One script reads every name of a page; a Cluster spreads the hashes over slots.
        self._names = None if isinstance(redis, RedisCluster) else pipeline.bind(NAMES)
        self._keys = keys
        self._ttl_seconds = ttl_seconds
        self._negative_ttl_ms = negative_ttl_seconds * 1000
        self._fill = pipeline.bind(FILL)
        self._pipeline = pipeline
        self._skip_until = 0.0

    # -- reads: never raise on a Redis outage -------------------------------------

    async def get(self, player_id: str) -> CacheResult:
        if self._skipping():
            return None
        try:
            fields: dict[str, str] = await self._redis.hgetall(  # type: ignore[assignment]
                self._keys.profile(player_id)
            )
        except REDIS_OUTAGE_ERRORS as exc:
            self._outage(exc)
            return None
        return decode(player_id, fields)

    async def get_many(self, player_ids: Sequence[str]) -> dict[str, CacheResult]:
        """Every id's cache entry in one pipelined round trip."""
        if self._skipping():
            return dict.fromkeys(player_ids)
        pipe = self._redis.pipeline(transaction=False)
        for player_id in player_ids:
            pipe.hgetall(self._keys.profile(player_id))
        try:
            replies = await pipe.execute()
        except REDIS_OUTAGE_ERRORS as exc:
            self._outage(exc)
            return dict.fromkeys(player_ids)
        return {pid: decode(pid, fields) for pid, fields in zip(player_ids, replies, strict=True)}

    def name_keys(self) -> tuple[str, str]:
        """A profile key around a player id (``Keys.profile``), for scripts that read names.

        ("", "") on a Cluster, where profiles live in other slots than the index.
        """
        if self._names is None:
            return ("", "")
        prefix, _, suffix = self._keys.profile("\0").partition("\0")
        return (prefix, suffix)

    async def names(self, player_ids: Sequence[str]) -> dict[str, NameResult]:
        """Every id's cached display name in one round trip (one script on a single node)."""
        if not player_ids:
            return {}
        if self._skipping():
            return dict.fromkeys(player_ids)
        try:
            if self._names is None:
                return {
                    pid: entry.display_name if isinstance(entry, Profile) else entry
                    for pid, entry in (await self.get_many(player_ids)).items()
                }
            replies = await self._names([self._keys.profile(pid) for pid in player_ids], [])
        except REDIS_OUTAGE_ERRORS as exc:
            self._outage(exc)
            return dict.fromkeys(player_ids)
        return {
            pid: MISSING if reply == 0 else reply
            for pid, reply in zip(player_ids, replies, strict=True)
        }

    async def fill_many(self, found: dict[str, Profile], missing: Sequence[str]) -> None:
        """Fill what a reader found in Postgres (and what it did not), in one round trip."""
        if self._skipping() or not (found or missing):
            return
        # One batch of the script pipeline (lib/scripts.py), which also works on a
        # Cluster, where redis-py's pipelines refuse EVALSHA.
        fills = [self._fill_call(profile) for profile in found.values()]
        fills += [
            self._fill.call([self._keys.profile(pid)], [0, self._negative_ttl_ms, "missing"])
            for pid in missing
        ]
        for outcome in await self._pipeline.together(*fills):
            if isinstance(outcome, REDIS_OUTAGE_ERRORS):
                self._outage(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome

    # -- writes: raise when the cache cannot be told -------------------------------

    async def put(self, profile: Profile) -> bool:
        """Cache a profile unless a newer version is there; False when refused."""
        try:
            return bool(await self._fill_value(profile))
        except REDIS_OUTAGE_ERRORS as exc:
            self._outage(exc)
            return False

    async def invalidate(self, player_id: str, version: int) -> None:
        """Tombstone ``version`` before it commits: older fills are refused from now on."""
        await self._write(player_id, version, TOMBSTONE_TTL_SECONDS * 1000, "tomb")

    async def mark_deleted(self, player_id: str) -> None:
        """After a delete commits: answer "no such player" from the cache."""
        ttl_ms = max(TOMBSTONE_TTL_SECONDS * 1000, self._negative_ttl_ms)
        await self._write(player_id, DELETED_VERSION, ttl_ms, "missing")

    async def _fill_value(self, profile: Profile) -> Any:
        call = self._fill_call(profile)
        return await self._fill(call.keys, call.args)

    def _fill_call(self, profile: Profile) -> ScriptCall:
        ttl_ms = int(self._ttl_seconds * 1000 * random.uniform(0.9, 1.1))  # noqa: S311 - jitter
        return self._fill.call(
            [self._keys.profile(profile.player_id)],
            [profile.version, ttl_ms, "value", *encode(profile)],
        )

    async def _write(self, player_id: str, version: int, ttl_ms: int, kind: str) -> None:
        if self._skipping():
            raise DependencyUnavailableError("redis", "the profile cache cannot be invalidated")
        try:
            await self._fill([self._keys.profile(player_id)], [version, ttl_ms, kind])
        except REDIS_OUTAGE_ERRORS as exc:
            self._outage(exc)
            raise DependencyUnavailableError(
                "redis", f"the profile cache cannot be invalidated ({outage_reason(exc)})"
            ) from exc

    def _skipping(self) -> bool:
        return time.monotonic() < self._skip_until

    def _outage(self, exc: Exception) -> None:
        if not self._skipping():
            logger.warning("profile cache unavailable, serving from Postgres: %s", exc)
        self._skip_until = time.monotonic() + OUTAGE_BACKOFF_SECONDS
