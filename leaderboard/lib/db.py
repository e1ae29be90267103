"""Postgres access: one asyncpg pool per worker, with timeouts on everything.

Connection-level failures (refused, reset, timed out, server shutting down) surface as
:class:`~leaderboard.lib.errors.DependencyUnavailableError` so that a request that needs
Postgres while it is down gets a 503 naming it, never a 500 or a hang. The pool drops
broken connections by itself and opens new ones on demand, so the service recovers
without a restart once Postgres is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from leaderboard.lib.errors import DependencyUnavailableError, OutcomeUnknownError, outage_reason

# Errors that mean "Postgres is not reachable or not serving right now".
POSTGRES_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, DNS
    TimeoutError,  # connect, pool acquire or command timeout (asyncio.TimeoutError is this)
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.QueryCanceledError,
)

# Failures of a statement already sent that leave its outcome unknown: the server may
# have committed it (or still may, when a paused server resumes). A server that answered
# (an error, statement_timeout: QueryCanceledError) rolled it back; that is known.
OUTCOME_UNKNOWN_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)

Connection = asyncpg.Connection | PoolConnectionProxy


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset (UNLISTEN, RESET ALL, unlock, CLOSE ALL).

    The service never changes session state on a pooled connection (no SET, LISTEN,
    advisory locks or cursors outside a transaction; migrations use their own
    connection), so the reset would be a round trip per request for nothing: the
    benchmark measured it at 8.6 % of a submission's CPU.
    """


async def _init_connection(conn: asyncpg.Connection) -> None:
    # json/jsonb in and out as Python objects, so services never encode by hand.
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog"
        )


def outage(exc: BaseException) -> DependencyUnavailableError:
    """The domain error for a Postgres failure, with a reason fit for a response body."""
    error = DependencyUnavailableError("postgres", outage_reason(exc))
    error.__cause__ = exc
    return error


class Database:
    """An asyncpg pool opened in the app's lifespan and handed to handlers by DI."""

    def __init__(
        self, dsn: str, *, min_size: int = 0, max_size: int = 10, timeout: float = 5.0
    ) -> None:
        self.dsn = dsn
        self.timeout = timeout
        self._min_size = min_size
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        """Create the pool. With ``min_size`` 0 nothing connects yet, so Postgres may be down."""
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self._min_size,
                max_size=self._max_size,
                timeout=self.timeout,  # connect timeout (asyncpg's default is 60 s)
                command_timeout=self.timeout,
                max_inactive_connection_lifetime=60.0,
                init=_init_connection,
                reset=_keep_session,
            )
        except POSTGRES_OUTAGE_ERRORS as exc:
            raise outage(exc) from exc

    async def close(self) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        try:
            await asyncio.wait_for(pool.close(), timeout=self.timeout)
        except TimeoutError:
            pool.terminate()

    @property
    def pool(self) -> asyncpg.Pool:
        """The pool itself, for COPY and other calls this class does not wrap."""
        if self._pool is None:
            raise RuntimeError("the database pool is not open (used outside the app lifespan?)")
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection; outages inside the block become DependencyUnavailableError."""
        try:
            async with self.pool.acquire(timeout=self.timeout) as conn:
                yield conn
        except POSTGRES_OUTAGE_ERRORS as exc:
            raise outage(exc) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection inside a transaction that commits when the block ends."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def fetch_write(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """Run one statement that writes and commits by itself (no explicit transaction).

        Raises:
            DependencyUnavailableError: the statement was never sent (nothing is written),
                or the server answered that it rolled it back.
            OutcomeUnknownError: it was sent, then the connection failed or timed out (also
                while the pool took the connection back): it may have committed, or may
                still commit.

        """
        sent = False
        try:
            async with self.pool.acquire(timeout=self.timeout) as conn:
                sent = True
                return await conn.fetch(query, *args)
        except POSTGRES_OUTAGE_ERRORS as exc:
            if sent and isinstance(exc, OUTCOME_UNKNOWN_ERRORS):
                error = OutcomeUnknownError("postgres", outage_reason(exc))
                error.__cause__ = exc
                raise error from exc
            raise outage(exc) from exc

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.connection() as conn:
            return await conn.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.connection() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.connection() as conn:
            return await conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        async with self.connection() as conn:
            return await conn.execute(query, *args)

    async def executemany(self, query: str, args: Sequence[Sequence[Any]]) -> None:
        async with self.connection() as conn:
            await conn.executemany(query, args)
