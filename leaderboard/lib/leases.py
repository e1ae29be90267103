"""Leases: background work that one worker at a time may do (across processes and hosts).

A lease is a row in ``maintenance_leases``: taken when free or expired, renewed by its
holder as it goes, given back when done, and expiring by itself if its holder dies. A
row rather than a session advisory lock, because a session lock does not survive
PgBouncer in transaction mode (docs/postgres.md). A lease spares work done twice; what
must happen exactly once is made so by the work itself (a compare-and-set, a marker).
"""

from __future__ import annotations

import contextlib
import secrets

from leaderboard.lib.db import Database
from leaderboard.lib.errors import DependencyUnavailableError

_TAKE = """
    INSERT INTO maintenance_leases AS l (name, holder, expires_at)
    VALUES ($1, $2, now() + make_interval(secs => $3))
    ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
     WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
    RETURNING holder
"""
_END = "DELETE FROM maintenance_leases WHERE name = $1 AND holder = $2"


class LostLease(Exception):
    """Another worker took the lease (this one was too slow to renew it)."""


class Lease:
    """The lease ``name``, held for ``seconds`` from each (re)take, by this object only."""

    def __init__(self, db: Database, name: str, seconds: float) -> None:
        self._db = db
        self.name = name
        self.seconds = seconds
        self.holder = secrets.token_hex(8)

    async def take(self) -> bool:
        """Take or renew it; False while another holder has it."""
        holder = await self._db.fetchval(_TAKE, self.name, self.holder, float(self.seconds))
        return bool(holder == self.holder)

    async def renew(self) -> None:
        """Renew it.

        Raises:
            LostLease: another worker holds it now.

        """
        if not await self.take():
            raise LostLease(self.name)

    async def end(self) -> None:
        """Give it back (if still held); an outage leaves it to expire."""
        with contextlib.suppress(DependencyUnavailableError):
            await self._db.execute(_END, self.name, self.holder)
