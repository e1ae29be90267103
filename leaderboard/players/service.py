"""Players: registration by device, profile reads through the cache, writes that invalidate it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Protocol

from leaderboard.lib.db import Connection, Database
from leaderboard.lib.errors import (
    ConflictError,
    DependencyUnavailableError,
    InvalidInputError,
    NotFoundError,
)
from leaderboard.lib.ids import canonical_player_id
from leaderboard.lib.metrics import BUFFER, PROFILE_CACHE
from leaderboard.players.cache import DELETED_VERSION, MISSING, NameResult, PlayerCache
from leaderboard.players.devices import DeviceDirectory
from leaderboard.players.fields import validate_fields, validate_patch
from leaderboard.players.models import PlayerCreate, Profile, ProfilePatch, check_display_name
from leaderboard.players.repository import PlayerRepository

BULK_LIMIT = 1000

logger = logging.getLogger(__name__)

# Test hook: awaited after a Postgres read and before the cache fill (ids read).
AfterRead = Callable[[Sequence[str]], Awaitable[None]]
# Other features' clean-up of a deleted player (their entries, their sessions): called
# inside the deleting transaction (the player row is locked, so nothing new can refer to
# it), before the row goes; a Redis outage there rolls the deletion back (503). The
# callable it returns runs after the commit (so a rollback leaves nothing half done).
AfterCommit = Callable[[], Awaitable[None]]
BeforeDelete = Callable[[Connection, str], Awaitable[AfterCommit | None]]
PlayerAction = Literal["player.create", "player.update", "player.delete"]


class AuditRecord(Protocol):
    """Adds an audit entry inside the caller's transaction.

    The audit log's ``record``, handed over by ``players/feature.py``: the service
    depends on this one call only.
    """

    async def __call__(
        self,
        conn: Connection,
        *,
        actor: str,
        action: PlayerAction,
        target: str,
        details: dict[str, Any] | None = None,
    ) -> None: ...


# Awaited with the player id after a change of country committed (its country_moves row
# says from where to where).
CountryChanged = Callable[[str], Awaitable[None]]


class PlayerService:
    def __init__(
        self,
        db: Database,
        repository: PlayerRepository,
        cache: PlayerCache,
        devices: DeviceDirectory,
        *,
        audit: AuditRecord | None = None,
        after_read: AfterRead | None = None,
    ) -> None:
        self._db = db
        self._repository = repository
        self._cache = cache
        self._devices = devices
        # The admin's writes go in the audit log, in their transaction; a player's own do
        # not. None: nothing is audited (tools and tests).
        self._audit = audit
        self.after_read = after_read
        """A test hook: awaited after profiles were read from Postgres, before caching."""
        self.before_delete: list[BeforeDelete] = []
        # Called with the player id after a profile change or deletion has committed.
        self.after_change: list[Callable[[str], None]] = []
        self.country_changed: list[CountryChanged] = []
        """Awaited with the player id after a change of country has committed, before it
        is answered: a segmented board's indexes move the entries (ranking/countries.py)
        and delete the change's ``country_moves`` row."""
        # Single flight: concurrent misses for one player share one Postgres read.
        self._inflight: dict[str, asyncio.Future[Profile | None]] = {}
        self.coalesced_reads = 0  # reads that joined another's Postgres query (metrics)

    async def register_device(
        self, device_id: str, display_name: str | None
    ) -> tuple[Profile, bool]:
        """The device's player, created on first sight; and whether it was created now."""
        if display_name is not None:
            # Checked even for a device that has a player already: the same request
            # must not be accepted or refused depending on whether the device is known.
            check_display_name(display_name)
        profile, created = await self._repository.find_or_create_by_device(device_id, display_name)
        if created:
            await self._cache.put(profile)  # replaces a cached "missing", if any
        return profile, created

    async def ban(self, conn: Connection, player_id: str, reason: str | None) -> None:
        """Mark a player banned inside the caller's transaction (404 for no such player)."""
        device = await self._repository.set_ban(conn, player_id, reason)
        if device is None:
            raise NotFoundError(f"no player with id {player_id!r}")
        # Before the commit (DeviceDirectory.forget): a Redis outage leaves nobody banned.
        await self._devices.forget(device)

    async def is_banned(self, player_id: str) -> bool:
        return await self._repository.is_banned(player_id)

    async def unban(self, conn: Connection, player_id: str) -> bool:
        """Lift a ban inside the caller's transaction; False when there was none (404: none)."""
        lifted = await self._repository.lift_ban(conn, player_id)
        if lifted is None:
            raise NotFoundError(f"no player with id {player_id!r}")
        return lifted

    async def create(self, request: PlayerCreate, actor: str | None = None) -> Profile:
        """A new player made by the admin (``POST /v1/players``); 409 for a known device."""
        fields = validate_fields(
            {
                "display_name": request.display_name,
                "avatar_url": request.avatar_url,
                "country": request.country,
                "metadata": request.metadata,
            }
        )
        async with self._db.transaction() as conn:
            profile = await self._repository.create(conn, device_id=request.device_id, **fields)
            if profile is None:
                raise ConflictError(
                    "device_id: a player with this device exists already; "
                    "sign in with POST /v1/auth/device to reach it"
                )
            # Whether a device was given, never the device id: it signs the player in.
            device = {"device": request.device_id is not None}
            await self._record(conn, actor, "player.create", profile.player_id, device)
        await self._cache.put(profile)  # replaces a cached "missing", if any
        return profile

    async def get(self, player_id: str) -> Profile:
        player_id = canonical_player_id(player_id)
        cached = await self._cache.get(player_id)
        BUFFER.counter(PROFILE_CACHE, "miss" if cached is None else "hit").inc()
        if isinstance(cached, Profile):
            return cached
        if cached is MISSING:
            raise NotFoundError(f"no player with id {player_id!r}")
        profile = await self._load(player_id)
        if profile is None:
            raise NotFoundError(f"no player with id {player_id!r}")
        return profile

    async def get_many(self, player_ids: Sequence[str]) -> dict[str, Profile]:
        """Profiles of up to 1,000 players (unknown ids are left out), for leaderboard pages.

        One pipelined Redis round trip, one Postgres query for the misses, one pipelined fill.
        """
        ids = _bulk_ids(player_ids)
        cached = await self._cache.get_many(ids)
        found = {pid: entry for pid, entry in cached.items() if isinstance(entry, Profile)}
        misses = [pid for pid, entry in cached.items() if entry is None]
        found.update(await self._load_many(ids, misses))
        return found

    def name_keys(self) -> tuple[str, str]:
        """The profile cache's key around a player id, for index reads that fetch names.

        ("", "") where one script cannot read them (a Redis Cluster).
        """
        return self._cache.name_keys()

    async def display_names(
        self, player_ids: Sequence[str], cached: Sequence[str | int | None] | None = None
    ) -> dict[str, str]:
        """Display names of up to 1,000 players (unknown ids left out): leaderboard pages.

        ``cached``: what an index read already found in the cache for each id (a name, 0
        for a cached "no such player", None when not cached). Without it the names are
        read from the cache (one script call on a single node). What is not cached is
        read as :meth:`get_many` does.
        """
        ids = _bulk_ids(player_ids)
        if cached is not None and len(cached) == len(player_ids):
            found: dict[str, NameResult] = {
                pid: MISSING if hit == 0 else (hit if isinstance(hit, str) else None)
                for pid, hit in zip(player_ids, cached, strict=True)
            }
        else:
            found = await self._cache.names(ids)
        names = {pid: name for pid, name in found.items() if isinstance(name, str)}
        misses = [pid for pid, name in found.items() if name is None]
        loaded = await self._load_many(ids, misses)
        names.update((pid, profile.display_name) for pid, profile in loaded.items())
        return names

    async def _load_many(self, ids: Sequence[str], misses: list[str]) -> dict[str, Profile]:
        """Profiles of the cache's misses from Postgres, filled back into the cache."""
        BUFFER.counter(PROFILE_CACHE, "miss").inc(len(misses))
        BUFFER.counter(PROFILE_CACHE, "hit").inc(len(ids) - len(misses))
        if not misses:
            return {}
        try:
            loaded = await self._repository.get_many(misses)
        except DependencyUnavailableError:
            # Leaderboard pages stay up while Postgres is down: names of players
            # that are not cached are left out rather than failing the page.
            logger.warning("profiles of %d players unavailable: postgres is down", len(misses))
            return {}
        if self.after_read is not None:
            await self.after_read(misses)
        await self._cache.fill_many(loaded, [pid for pid in misses if pid not in loaded])
        return loaded

    async def update(
        self, player_id: str, patch: ProfilePatch, actor: str | None = None
    ) -> Profile:
        player_id = canonical_player_id(player_id)
        changes = validate_patch(patch)
        old_country = None
        async with self._db.transaction() as conn:
            if "country" in changes:
                old_country = await self._repository.country_for_update(conn, player_id)
            profile = await self._repository.update(conn, player_id, changes)
            if profile is None:
                raise NotFoundError(f"no player with id {player_id!r}")
            moved = "country" in changes and old_country != profile.country
            if moved:
                # Committed with the profile: should this worker die before the move
                # below, whoever finds the row moves the entries (D-048).
                await self._repository.note_country_move(
                    conn, player_id, old_country, profile.country
                )
            # Which fields, not their values: the log is kept for good, a profile is not.
            await self._record(conn, actor, "player.update", player_id, {"fields": sorted(changes)})
            # Before the commit: if Redis cannot be told, nothing commits (503).
            await self._cache.invalidate(player_id, profile.version)
        await self._cache.put(profile)
        if moved:
            for move in self.country_changed:
                await move(player_id)
        for notify in self.after_change:
            notify(player_id)
        return profile

    async def delete(self, player_id: str, actor: str | None = None) -> None:
        player_id = canonical_player_id(player_id)
        after_commit: list[AfterCommit] = []
        async with self._db.transaction() as conn:
            # Lock the row first: a concurrent first score on another board (whose row
            # refers to this player) now waits, then fails, instead of slipping past us.
            if not await self._repository.lock(conn, player_id):
                raise NotFoundError(f"no player with id {player_id!r}")
            for hook in self.before_delete:
                action = await hook(conn, player_id)
                if action is not None:
                    after_commit.append(action)
            device = await self._repository.delete(conn, player_id)
            await self._record(conn, actor, "player.delete", player_id, {})
            # Before the commit, so that a Redis outage leaves the player whole (503).
            await self._cache.invalidate(player_id, DELETED_VERSION)
            if device is not None:
                await self._devices.forget(device)
        await self._cache.mark_deleted(player_id)
        for action in after_commit:
            await action()
        for notify in self.after_change:
            notify(player_id)

    async def _record(
        self,
        conn: Connection,
        actor: str | None,
        action: PlayerAction,
        player_id: str,
        details: dict[str, Any],
    ) -> None:
        """Audit a write by the admin or a server key (``actor``) in its transaction."""
        if actor is not None and self._audit is not None:
            await self._audit(
                conn, actor=actor, action=action, target=f"player:{player_id}", details=details
            )

    async def _load(self, player_id: str) -> Profile | None:
        pending = self._inflight.get(player_id)
        if pending is not None:
            self.coalesced_reads += 1
            return await asyncio.shield(pending)
        future: asyncio.Future[Profile | None] = asyncio.get_running_loop().create_future()
        self._inflight[player_id] = future
        try:
            profile = await self._repository.get(player_id)
            if self.after_read is not None:
                await self.after_read([player_id])
            if profile is None:
                await self._cache.fill_many({}, [player_id])
            else:
                await self._cache.put(profile)
        except BaseException as exc:
            future.set_exception(exc)
            # Retrieve it, so an error nobody else awaited is not logged as unhandled.
            future.exception()
            raise
        else:
            future.set_result(profile)
            return profile
        finally:
            del self._inflight[player_id]


def _bulk_ids(player_ids: Sequence[str]) -> list[str]:
    """The ids of a bulk lookup, each once, in order; 400 past BULK_LIMIT."""
    if len(player_ids) > BULK_LIMIT:
        raise InvalidInputError("player_ids", f"at most {BULK_LIMIT} per lookup")
    return list(dict.fromkeys(player_ids))
