"""Reads a streaming replica may serve, never staler than the primary when they were asked.

A replica replays the primary's WAL some time after the primary wrote it. A read sent
there could miss a write that committed before the read began (a profile read right
after its PATCH), and a profile read that way could even be filled back into the cache.
So every read here carries a **fence**: the primary's WAL insert position, sampled after
the read was asked for (one query for all reads waiting at that moment: a
:class:`~leaderboard.lib.batching.Batcher`). Any commit acknowledged before the read began
lies below it, whatever ``synchronous_commit`` says. The replica serves the read only
once it has replayed up to the fence, checked *before* the statement that reads takes
its snapshot (two statements in one transaction, so one server connection answers both,
also behind PgBouncer). So a replica answer is exactly as fresh as a primary answer
would have been; the replica just does the work.

A replica that has not caught up within the read's bound, or fails, or is not in
recovery (a promoted or misconfigured server is never trusted), sends the read to the
primary, and for a while later reads go to the primary without asking it: a second
after a lag, ten after a failure (a hung replica costs a timeout per try). Without a
replica URL everything goes to the primary at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import asyncpg
from prometheus_client import Counter

from leaderboard.lib.batching import Batcher
from leaderboard.lib.db import POSTGRES_OUTAGE_ERRORS, Connection, Database
from leaderboard.lib.errors import DependencyUnavailableError
from leaderboard.lib.metrics import BUFFER
from leaderboard.lib.settings import Settings

logger = logging.getLogger(__name__)

READS = Counter(
    "leaderboard_replica_reads_total",
    "Reads that could go to the read replica, by who served them: replica, or primary "
    "(no replica, or it lagged behind the read's fence, failed or is in back-off).",
    ["served_by", "kind"],
)

# After a lagging replica, reads go straight to the primary this long; after a failing
# one (down, hung: each try may cost a timeout) longer.
LAG_BACKOFF_SECONDS = 1.0
FAILURE_BACKOFF_SECONDS = 10.0
# How long a read waits for the replica to replay up to its fence: a profile miss is on
# a request's path; a rebuild scans a whole period, and rather waits than loads the primary.
POINT_READ_CATCH_UP_SECONDS = 0.05
SCAN_CATCH_UP_SECONDS = 2.0
_POLL_SECONDS = 0.005

_FENCE = "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint"
# NULL on a server that is not in recovery.
_REPLAYED = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint"


class ReplicaBehind(Exception):
    """The replica did not replay up to the fence in time (or is not a replica)."""


# What sends a read to the primary: the replica lagging, unreachable, failing (a query
# cancelled by a recovery conflict, a broken connection). An error the primary would give
# too (bad SQL) is simply given by the primary.
_REPLICA_FAILURES: tuple[type[BaseException], ...] = (
    ReplicaBehind,
    DependencyUnavailableError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    *POSTGRES_OUTAGE_ERRORS,
)


class ReadReplica:
    """Routes fresh-enough reads to ``replica`` (None: everything goes to ``primary``)."""

    def __init__(self, primary: Database, replica: Database | None) -> None:
        self.primary = primary
        self.replica = replica
        self._skip_until = 0.0
        self._opened = False
        self._opening = asyncio.Lock()
        self._fences: Batcher[None, int] = Batcher(
            self._sample_fences, name="replica_fences", max_batch=10_000, max_in_flight=1
        )
        self.served = {"replica": 0, "primary": 0}  # tests and logs
        self.failure_backoff = FAILURE_BACKOFF_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings, primary: Database) -> ReadReplica:
        if settings.database_replica_url is None:
            return cls(primary, None)
        return cls(primary, Database.from_settings(settings, settings.database_replica_url))

    async def close(self) -> None:
        if self.replica is not None:
            await self.replica.close()
            self._opened = False

    # -- reads -----------------------------------------------------------------------

    async def fetch(self, query: str, *args: Any, kind: str = "point") -> list[asyncpg.Record]:
        """The rows of ``query``, as fresh as the primary's answer when this was called."""
        if await self._usable():
            assert self.replica is not None
            fence = await self._fence()
            try:
                async with self.replica.connection() as conn, conn.transaction(readonly=True):
                    await self._caught_up(conn, fence, POINT_READ_CATCH_UP_SECONDS)
                    rows = await conn.fetch(query, *args)
            except _REPLICA_FAILURES as exc:
                self._back_off(exc)
            else:
                self._count("replica", kind)
                return rows
        self._count("primary", kind)
        return await self.primary.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        rows = await self.fetch(query, *args)
        return rows[0] if rows else None

    @asynccontextmanager
    async def snapshot(self, kind: str = "scan") -> AsyncIterator[Connection]:
        """A connection in a read-only transaction that sees every commit made before the call.

        Its next statement does: on the replica once it has caught up (waiting up to
        ``SCAN_CATCH_UP_SECONDS``), else on the primary.
        Open one cursor (or run one statement) in it: each statement of a READ COMMITTED
        transaction has a snapshot of its own, taken when it starts.
        """
        if await self._usable():
            assert self.replica is not None
            fence = await self._fence()
            held = AsyncExitStack()
            try:
                conn = await held.enter_async_context(self.replica.connection())
                await held.enter_async_context(conn.transaction(readonly=True))
                await self._caught_up(conn, fence, SCAN_CATCH_UP_SECONDS)
            except _REPLICA_FAILURES as exc:
                self._back_off(exc)
                # Ends a transaction that only asked where replay is; a broken connection
                # is the pool's to replace.
                with contextlib.suppress(Exception):
                    await held.aclose()
            else:
                self._count("replica", kind)
                async with held:
                    try:
                        yield conn
                    except _REPLICA_FAILURES as exc:
                        # Too late to move to the primary (rows went out already): fail
                        # this read, and send the next ones to the primary for a while.
                        self._back_off(exc)
                        # The driver's message stays in the log: it can name hosts.
                        raise DependencyUnavailableError(
                            "postgres", "the read replica failed during a read"
                        ) from exc
                return
        self._count("primary", kind)
        async with self.primary.connection() as conn, conn.transaction(readonly=True):
            yield conn

    # -- the fence and the replica's position -----------------------------------------

    async def _fence(self) -> int:
        return await self._fences(None)

    async def _sample_fences(self, waiting: list[None]) -> list[int]:
        lsn = int(await self.primary.fetchval(_FENCE))
        return [lsn] * len(waiting)

    async def _caught_up(self, conn: Connection, fence: int, wait: float) -> None:
        """Return once the replica has replayed up to ``fence``; ReplicaBehind after ``wait``."""
        deadline = time.monotonic() + wait
        while True:
            replayed = await conn.fetchval(_REPLAYED)
            if replayed is None:
                raise ReplicaBehind("the replica is not in recovery: it is not read from")
            if replayed >= fence:
                return
            if time.monotonic() >= deadline:
                raise ReplicaBehind(f"the replica is {fence - replayed} bytes of WAL behind")
            await asyncio.sleep(_POLL_SECONDS)

    # -- health ------------------------------------------------------------------------

    async def _usable(self) -> bool:
        if self.replica is None or time.monotonic() < self._skip_until:
            return False
        if self._opened:
            return True
        async with self._opening:
            if not self._opened:
                try:
                    await self.replica.open()
                except Exception as exc:
                    self._back_off(exc)
                    return False
                self._opened = True
        return True

    def _back_off(self, exc: BaseException) -> None:
        seconds = LAG_BACKOFF_SECONDS if isinstance(exc, ReplicaBehind) else self.failure_backoff
        if time.monotonic() >= self._skip_until:
            logger.warning("reading from the primary for %g s: %s", seconds, exc)
        self._skip_until = time.monotonic() + seconds

    def _count(self, served_by: str, kind: str) -> None:
        self.served[served_by] += 1
        BUFFER.counter(READS, served_by, kind).inc()
