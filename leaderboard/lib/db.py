"""Postgres access: one asyncpg pool per worker, with timeouts on everything.

Connection-level failures (refused, reset, timed out, server shutting down) surface as
:class:`~leaderboard.lib.errors.DependencyUnavailableError` so that a request that needs
Postgres while it is down gets a 503 naming it, never a 500 or a hang. The pool drops
broken connections by itself and opens new ones on demand, so the service recovers
without a restart once Postgres is back.

Postgres may be reached directly or through PgBouncer in transaction mode, where each
transaction (or statement outside one) may run on another server connection. There the
pool prepares no named statements (asyncpg's statement cache is off: every statement is
parsed unnamed within its own round trip) and nothing relies on session state: no SET,
LISTEN, session advisory locks, temporary tables or cursors outside a transaction.
``pooler="auto"`` tells the two apart on the first connection (:func:`behind_pooler`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from leaderboard.lib.errors import DependencyUnavailableError, OutcomeUnknownError, outage_reason

if TYPE_CHECKING:
    from leaderboard.lib.settings import Settings

logger = logging.getLogger(__name__)

Pooler = Literal["auto", "none", "transaction"]

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

# The group commits' own connections (:meth:`Database.commit_batch`): the statements in
# flight at once (the score and the league batchers' three each).
COMMIT_POOL_SIZE = 6
# A group commit's statement is one large CTE over arrays. Postgres would plan it anew on
# each run (a "custom" plan, ~1.3 ms of CPU: more than running it) when the first runs on
# a connection had few rows, and its plan does not depend on the arrays' contents: plan it
# once per connection (docs/postgres.md, "The group commit's plan").
PLAN_ONCE = "SET plan_cache_mode = force_generic_plan"


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset (UNLISTEN, RESET ALL, unlock, CLOSE ALL).

    The service never changes session state on a pooled connection (no SET, LISTEN,
    advisory locks or cursors outside a transaction; migrations use their own
    connection), so the reset would be a round trip per request for nothing: the
    benchmark measured it at 8.6 % of a submission's CPU. Behind PgBouncer the reset
    would even run on whichever server connection the pooler picks.
    """


async def _init_connection(conn: asyncpg.Connection) -> None:
    # json/jsonb in and out as Python objects, so services never encode by hand.
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog"
        )


async def _init_commit_connection(conn: asyncpg.Connection) -> None:
    await _init_connection(conn)
    await conn.execute(PLAN_ONCE)


async def behind_pooler(conn: asyncpg.Connection) -> bool:
    """Whether ``conn`` talks to Postgres through a connection pooler such as PgBouncer.

    A server announces its process id in the cancel key it sends at start-up; a pooler,
    which may run each statement on another server connection, makes up a key of its own
    (it answers cancel requests itself). So the announced id and the id of the backend
    that runs a query agree exactly when nothing pools in between.
    """
    backend = await conn.fetchval("SELECT pg_backend_pid()")
    return bool(backend != conn.get_server_pid())


def outage(exc: BaseException) -> DependencyUnavailableError:
    """The domain error for a Postgres failure, with a reason fit for a response body."""
    error = DependencyUnavailableError("postgres", outage_reason(exc))
    error.__cause__ = exc
    return error


class Database:
    """An asyncpg pool opened in the app's lifespan and handed to handlers by DI.

    ``pooler``: ``none`` (direct: prepared statements are cached per connection),
    ``transaction`` (PgBouncer in transaction mode: none are) or ``auto`` (decided on the
    first connection, see :func:`behind_pooler`; while Postgres is down, on first use).
    """

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 0,
        max_size: int = 10,
        timeout: float = 5.0,
        pooler: Pooler = "auto",
    ) -> None:
        self.dsn = dsn
        self.timeout = timeout
        self.pooler = pooler
        self.pooled: bool | None = None if pooler == "auto" else pooler == "transaction"
        """Whether a pooler sits in between; None until ``auto`` has found out."""
        self._min_size = min_size
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._commit_pool: asyncpg.Pool | None = None
        self._opened = False
        # The pool being made (``auto``'s first connection may wait on a hung server):
        # every caller meanwhile waits for this one attempt instead of making its own.
        self._creating: asyncio.Future[asyncpg.Pool] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, dsn: str | None = None) -> Database:
        """The primary's Database as the settings describe it (``dsn``: another URL)."""
        url = dsn or settings.database_url
        if url is None:
            raise ValueError("no database URL: set database_url (serve fills it in)")
        return cls(
            url,
            min_size=settings.db_pool_min_size,
            max_size=settings.db_pool_max_size,
            timeout=settings.db_timeout,
            pooler=settings.database_pooler,
        )

    async def open(self) -> None:
        """Create the pool. With ``min_size`` 0 nothing connects yet, so Postgres may be down.

        With ``pooler="auto"`` one connection finds out first whether a pooler is in
        between; if Postgres is down then (and ``min_size`` is 0), the first use does.
        """
        self._opened = True
        if self.pooled is not None or self._min_size > 0:
            await self._create_pool()
            return
        try:
            await self._create_pool()
        except Exception as exc:  # the first use tries again, and reports what it finds
            logger.info("Postgres not reached yet (%s); connecting on first use", exc)

    async def _create_pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        creating = self._creating
        if creating is None:
            creating = self._creating = asyncio.ensure_future(self._new_pool())
            creating.add_done_callback(self._created)
        return await asyncio.shield(creating)

    def _created(self, attempt: asyncio.Future[asyncpg.Pool]) -> None:
        self._creating = None
        if not attempt.cancelled():
            attempt.exception()  # its callers have it; the next use tries again

    async def _new_pool(self) -> asyncpg.Pool:
        try:
            if self.pooled is None:
                self.pooled = await self._detect_pooler()
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self._min_size,
                max_size=self._max_size,
                timeout=self.timeout,  # connect timeout (asyncpg's default is 60 s)
                command_timeout=self.timeout,
                max_inactive_connection_lifetime=60.0,
                init=_init_connection,
                reset=_keep_session,
                # Behind a transaction pooler a named statement would live on one server
                # connection while the next call may land on another: parse each
                # statement unnamed, in the round trip that runs it.
                statement_cache_size=0 if self.pooled else 100,
            )
            # min_size 0: it connects on its first commit. Behind a transaction pooler a
            # SET would stay on whichever server connection it ran on (and an unnamed
            # statement is planned on each run anyway): not there.
            self._commit_pool = await asyncpg.create_pool(
                self.dsn,
                min_size=0,
                max_size=COMMIT_POOL_SIZE,
                timeout=self.timeout,
                command_timeout=self.timeout,
                max_inactive_connection_lifetime=60.0,
                init=_init_connection if self.pooled else _init_commit_connection,
                reset=_keep_session,
                statement_cache_size=0 if self.pooled else 100,
            )
        except POSTGRES_OUTAGE_ERRORS as exc:
            raise outage(exc) from exc
        return self._pool

    async def _detect_pooler(self) -> bool:
        conn = await asyncpg.connect(self.dsn, timeout=self.timeout, statement_cache_size=0)
        try:
            pooled = await asyncio.wait_for(behind_pooler(conn), timeout=self.timeout)
        finally:
            await conn.close(timeout=self.timeout)
        if pooled:
            logger.info(
                "Postgres is reached through a connection pooler (PgBouncer?): prepared "
                "statements are not cached; set LEADERBOARD_DATABASE_POOLER to say so"
            )
        return pooled

    async def close(self) -> None:
        self._opened = False
        creating = self._creating
        if creating is not None:
            creating.cancel()
            await asyncio.wait([creating], timeout=self.timeout)
        pools = [pool for pool in (self._pool, self._commit_pool) if pool is not None]
        self._pool = self._commit_pool = None
        for pool in pools:
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

    async def _ready_pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        if not self._opened:
            raise RuntimeError("the database pool is not open (used outside the app lifespan?)")
        return await self._create_pool()  # ``auto`` found Postgres down when it opened

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection; outages inside the block become DependencyUnavailableError."""
        pool = await self._ready_pool()
        try:
            async with pool.acquire(timeout=self.timeout) as conn:
                yield conn
        except POSTGRES_OUTAGE_ERRORS as exc:
            raise outage(exc) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection inside a transaction that commits when the block ends."""
        async with self.connection() as conn:
            try:
                async with conn.transaction():
                    yield conn
            except asyncpg.InterfaceError as exc:
                # The connection died inside the transaction (its server went, or killed
                # it): asyncpg then fails the rollback too, hiding the outage behind it.
                lost = exc.__context__
                if isinstance(lost, POSTGRES_OUTAGE_ERRORS):
                    raise outage(lost) from exc
                raise

    async def fetch_write(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """Run one statement that writes and commits by itself (no explicit transaction).

        Raises:
            DependencyUnavailableError: the statement was never sent (nothing is written),
                or the server answered that it rolled it back.
            OutcomeUnknownError: it was sent, then the connection failed or timed out (also
                while the pool took the connection back): it may have committed, or may
                still commit.

        """
        return await self._fetch_write(await self._ready_pool(), query, args)

    async def commit_batch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """:meth:`fetch_write` for a group commit's statement, on connections of its own.

        They plan each statement once (``PLAN_ONCE``). Raises as fetch_write does.
        """
        await self._ready_pool()
        assert self._commit_pool is not None  # made with the pool
        return await self._fetch_write(self._commit_pool, query, args)

    async def _fetch_write(
        self, pool: asyncpg.Pool, query: str, args: Sequence[Any]
    ) -> list[asyncpg.Record]:
        sent = False
        try:
            async with pool.acquire(timeout=self.timeout) as conn:
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
