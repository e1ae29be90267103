"""Players in Postgres: the durable record of profiles."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from leaderboard.lib.db import Connection, Database
from leaderboard.lib.errors import PermissionDeniedError
from leaderboard.lib.replica import ReadReplica
from leaderboard.players.models import Profile

_COLUMNS = "id, display_name, avatar_url, country, metadata, created_at, updated_at, version"


def device_hash(device_id: str) -> bytes:
    """What we keep of a device id: its SHA-256 (deterministic, so it can be looked up)."""
    return hashlib.sha256(device_id.encode()).digest()


def default_display_name(player_id: str) -> str:
    return f"Player-{player_id[:8]}"


def to_profile(row: asyncpg.Record) -> Profile:
    return Profile(
        player_id=str(row["id"]),
        display_name=row["display_name"],
        avatar_url=row["avatar_url"],
        country=row["country"],
        metadata=row["metadata"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


class PlayerRepository:
    def __init__(self, db: Database, reads: ReadReplica | None = None) -> None:
        self._db = db
        # Profile reads on a cache miss may be served by a read replica: each is fenced
        # (lib/replica.py), so it is never older than the primary when the read began, and
        # what it fills into the cache is exactly what a primary read would have filled.
        self._reads = reads or ReadReplica(db, None)

    async def get(self, player_id: str) -> Profile | None:
        row = await self._reads.fetchrow(f"SELECT {_COLUMNS} FROM players WHERE id = $1", player_id)
        return to_profile(row) if row else None

    async def get_many(self, player_ids: Sequence[str]) -> dict[str, Profile]:
        rows = await self._reads.fetch(
            f"SELECT {_COLUMNS} FROM players WHERE id = ANY($1::uuid[])", list(player_ids)
        )
        return {str(row["id"]): to_profile(row) for row in rows}

    async def find_or_create_by_device(
        self, device_id: str, display_name: str | None
    ) -> tuple[Profile, bool]:
        """The player owning ``device_id``, created on first sight; and whether it was created."""
        digest = device_hash(device_id)
        async with self._db.connection() as conn:
            # A known device (the usual case) is one read and no write. A first sight is an
            # insert; two first calls at once both insert, one gets DO NOTHING and reads
            # the other's row (its statement, a new snapshot, sees it committed).
            for _ in range(3):
                row = await conn.fetchrow(
                    f"SELECT {_COLUMNS}, banned_at FROM players WHERE device_hash = $1", digest
                )
                if row is not None:
                    if row["banned_at"] is not None:
                        raise PermissionDeniedError("this player is banned")
                    return to_profile(row), False
                player_id = str(uuid.uuid4())
                row = await conn.fetchrow(
                    f"""
                    INSERT INTO players (id, device_hash, display_name)
                    VALUES ($1, $2, $3)
                    ON CONFLICT (device_hash) DO NOTHING
                    RETURNING {_COLUMNS}
                    """,
                    player_id,
                    digest,
                    display_name or default_display_name(player_id),
                )
                if row is not None:
                    return to_profile(row), True
        raise RuntimeError("device row vanished three times in a row")  # deleted concurrently

    async def create(
        self,
        conn: Connection,
        *,
        device_id: str | None,
        display_name: str | None,
        avatar_url: str | None,
        country: str | None,
        metadata: dict[str, Any],
    ) -> Profile | None:
        """A new player (in the caller's transaction); None for a device that has one."""
        # Every row needs a device hash (NOT NULL UNIQUE). A player created without a
        # device gets the hash of a random secret nobody keeps: no device id hashes to
        # it, so nobody can sign in as this player; the admin token acts for them.
        digest = (
            device_hash(device_id)
            if device_id is not None
            else device_hash(secrets.token_urlsafe(32))
        )
        player_id = str(uuid.uuid4())
        row = await conn.fetchrow(
            f"""
            INSERT INTO players (id, device_hash, display_name, avatar_url, country, metadata)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (device_hash) DO NOTHING
            RETURNING {_COLUMNS}
            """,
            player_id,
            digest,
            display_name or default_display_name(player_id),
            avatar_url,
            country,
            metadata,
        )
        return to_profile(row) if row else None

    async def set_ban(self, conn: Connection, player_id: str, reason: str | None) -> bytes | None:
        """Ban (``reason`` may be None) inside the caller's transaction.

        Returns the player's device hash (for the device directory); None: no player.
        """
        digest = await conn.fetchval(
            "UPDATE players SET banned_at = now(), ban_reason = $2 WHERE id = $1"
            " RETURNING device_hash",
            player_id,
            reason,
        )
        return None if digest is None else bytes(digest)

    async def is_banned(self, player_id: str) -> bool:
        banned = await self._db.fetchval(
            "SELECT banned_at IS NOT NULL FROM players WHERE id = $1", player_id
        )
        return bool(banned)

    async def lift_ban(self, conn: Connection, player_id: str) -> bool | None:
        """Unban inside the caller's transaction: True if banned, False if not, None: no player."""
        row = await conn.fetchrow(
            """
            UPDATE players p SET banned_at = NULL, ban_reason = NULL
              FROM players old WHERE p.id = $1 AND old.id = p.id
            RETURNING old.banned_at IS NOT NULL AS was_banned
            """,
            player_id,
        )
        return None if row is None else bool(row["was_banned"])

    async def update(
        self, conn: Connection, player_id: str, changes: dict[str, Any]
    ) -> Profile | None:
        """Apply ``changes`` and bump the version, inside the caller's transaction."""
        assignments = [f"{column} = ${i}" for i, column in enumerate(changes, start=2)]
        row = await conn.fetchrow(
            f"""
            UPDATE players
               SET {", ".join(assignments)}, version = version + 1, updated_at = now()
             WHERE id = $1
            RETURNING {_COLUMNS}
            """,
            player_id,
            *changes.values(),
        )
        return to_profile(row) if row else None

    async def country_for_update(self, conn: Connection, player_id: str) -> str | None:
        """The player's country, their row locked until the caller's transaction ends."""
        value = await conn.fetchval(
            "SELECT country FROM players WHERE id = $1 FOR UPDATE", player_id
        )
        return None if value is None else str(value)

    async def note_country_move(
        self, conn: Connection, player_id: str, old: str | None, new: str | None
    ) -> None:
        """Record, inside the caller's transaction, that the player's entries must move.

        The row (country_moves, D-048) goes when they have moved and settled; a second
        change before that keeps every country left behind, and is moved again.
        """
        await conn.execute(
            """
            INSERT INTO country_moves AS m (player_id, old_countries, new_country)
            VALUES ($1, array_remove(ARRAY[$2::text], NULL), $3)
            ON CONFLICT (player_id) DO UPDATE
               SET old_countries = ARRAY(SELECT DISTINCT c FROM unnest(
                       m.old_countries || excluded.old_countries) AS c),
                   new_country = excluded.new_country,
                   changed_at = now(),
                   moved_at = NULL
            """,
            player_id,
            old,
            new,
        )

    async def lock(self, conn: Connection, player_id: str) -> bool:
        """Lock the player's row until the caller's transaction ends; False: no such player."""
        row = await conn.fetchval("SELECT 1 FROM players WHERE id = $1 FOR UPDATE", player_id)
        return row is not None

    async def delete(self, conn: Connection, player_id: str) -> bytes | None:
        """Delete the player inside the caller's transaction.

        Returns the player's device hash (for the device directory); None: no player.
        """
        digest = await conn.fetchval(
            "DELETE FROM players WHERE id = $1 RETURNING device_hash", player_id
        )
        return None if digest is None else bytes(digest)
