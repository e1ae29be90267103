"""The device directory: which player a device signs in as, kept in Redis aside of Postgres.

A known device's sign-in then costs no Postgres query: its lookup leaves in the same
pipeline as the sign-in's rate-limit slot (one Redis round trip), and the session is the
second (docs/decisions.md D-045). Postgres (``players.device_hash``) stays the record;
an entry is filled from it only after a sign-in found the player there, not banned.

A device's player never changes while the player lives: what can make an entry wrong is
a ban or a deletion. Both write a tombstone (``!``) over the entry *before* they commit,
and a fill only writes where nothing is (``SET NX``), so a sign-in that read the row
before the ban committed cannot put it back; a sign-in that finds the tombstone asks
Postgres, which answers 403 for a banned player and makes a new player for a deleted
one's device. A lifted ban leaves the tombstone to expire (a minute of Postgres reads).
"""

from __future__ import annotations

from leaderboard.lib.errors import DependencyUnavailableError, outage_reason
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.scripts import LuaScript, ScriptCall, ScriptPipeline

LOOKUP = LuaScript.load(__package__, "device_lookup.lua")
REMEMBER = LuaScript.load(__package__, "device_remember.lua")
TOMBSTONE = "!"
# A tombstone must outlive the slowest sign-in between its Postgres read and its fill
# (bounded by the Postgres and Redis timeouts, a few seconds): as the profile cache's.
TOMBSTONE_TTL_MS = 60_000


class DeviceDirectory:
    """Device (its SHA-256) → player id, with a sliding TTL; ``ttl_seconds`` 0 turns it off."""

    def __init__(self, pipeline: ScriptPipeline, keys: Keys, *, ttl_seconds: int) -> None:
        self._keys = keys
        self._ttl_ms = ttl_seconds * 1000
        self._lookup = pipeline.bind(LOOKUP)
        self._remember = pipeline.bind(REMEMBER)
        self._redis = pipeline.redis

    @property
    def enabled(self) -> bool:
        return self._ttl_ms > 0

    async def player_of(self, device_hash: bytes) -> str | None:
        """The device's player as last seen in Postgres; None: ask Postgres.

        Redis errors propagate: a sign-in takes its rate-limit slot in the same round
        trip, and without Redis it is refused (503) anyway.
        """
        call = self.lookup_call(device_hash)
        return player_in(await self._lookup(call.keys, call.args)) if call else None

    def lookup_call(self, device_hash: bytes) -> ScriptCall | None:
        """:meth:`player_of`'s script call, to send with others; None when it is off.

        Its reply names the player through :func:`player_in`.
        """
        if not self.enabled:
            return None
        return self._lookup.call([self._keys.device(device_hash.hex())], [self._ttl_ms])

    async def remember(self, device_hash: bytes, player_id: str) -> None:
        """After Postgres answered ``player_id`` (not banned): fill, unless a tombstone is there.

        Best effort: a failed fill costs the next sign-in a Postgres read, nothing else.
        """
        if not self.enabled:
            return
        try:
            await self._remember([self._keys.device(device_hash.hex())], [player_id, self._ttl_ms])
        except REDIS_OUTAGE_ERRORS:
            return

    async def forget(self, device_hash: bytes) -> None:
        """Before a ban or deletion commits: sign-ins of this device ask Postgres from now on.

        Written even when the directory is off (an instance may run with it on). Raises
        DependencyUnavailableError when Redis cannot take it, so the caller rolls back.
        """
        try:
            await self._redis.set(
                self._keys.device(device_hash.hex()), TOMBSTONE, px=TOMBSTONE_TTL_MS
            )
        except REDIS_OUTAGE_ERRORS as exc:
            raise DependencyUnavailableError(
                "redis", f"the device directory cannot be updated ({outage_reason(exc)})"
            ) from exc


def player_in(reply: object) -> str | None:
    """The player a lookup's reply names; None: ask Postgres."""
    return str(reply) if reply else None
