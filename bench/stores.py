"""The benchmark's own database and Redis keys: create them, and remove every trace.

Postgres: the database ``leaderboard_bench`` (dropped and created afresh, migrated by the
service's own ``leaderboard migrate``, dropped at the end). Redis: db 15 under the key
prefix ``lbbench:``, cleaned with SCAN + UNLINK of that prefix; nothing is ever flushed.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
from collections.abc import AsyncIterator

import asyncpg
from redis.asyncio import Redis

from bench.common import RUN, Options, console
from bench.servers import Servers, leaderboard_command, service_env


class Stores:
    def __init__(self, opts: Options, env: dict[str, str]) -> None:
        self.opts = opts
        self.env = env
        self.redis = Redis.from_url(opts.redis_url, decode_responses=True, socket_timeout=120)
        self.db_created = False

    async def setup(self) -> int:
        """Check the tools, clear old keys, create and migrate the database.

        Returns the number of keys in the Redis db before the run (for the results).
        """
        RUN.mkdir(parents=True, exist_ok=True)
        for tool in ("wrk", "uv"):
            if shutil.which(tool) is None:
                raise SystemExit(f"error: {tool} is not installed")
        await self.redis.ping()
        keys_before = await self.redis.dbsize()
        left = await self.unlink_keys()
        if left:
            console.print(
                f"removed {left} keys left by an earlier run under {self.opts.key_prefix}"
            )
        sys_conn = await asyncpg.connect(f"{self.opts.pg_url}/postgres")
        try:
            await sys_conn.execute(f'DROP DATABASE IF EXISTS "{self.opts.db_name}" WITH (FORCE)')
            await sys_conn.execute(f'CREATE DATABASE "{self.opts.db_name}"')
            # Statements that take over a second land in the server's log with their text
            # and duration: that is how a stall's statement gets a name (D-049).
            await sys_conn.execute(
                f'ALTER DATABASE "{self.opts.db_name}" SET log_min_duration_statement = 1000'
            )
            self.db_created = True
        finally:
            await sys_conn.close()
        leaderboard_command(self.env, "migrate")
        return keys_before

    async def _scan_batches(self, pattern: str) -> AsyncIterator[list[str]]:
        cursor = 0
        while True:
            cursor, keys = await self.redis.scan(cursor, match=pattern, count=1000)
            if keys:
                yield [str(k) for k in keys]
            if cursor == 0:
                return

    async def unlink_keys(self) -> int:
        n = 0
        async for batch in self._scan_batches(f"{self.opts.key_prefix}*"):
            n += await self.redis.unlink(*batch)
        return n

    async def teardown(self) -> None:
        """Unlink the run's keys, close Redis, drop the database (processes stopped first)."""
        prefix = self.opts.key_prefix
        with contextlib.suppress(Exception):
            n = await self.unlink_keys()
            left = [k async for b in self._scan_batches(f"{prefix}*") for k in b]
            console.print(f"cleanup: unlinked {n} Redis keys ({len(left)} left under {prefix})")
        await self.redis.aclose()
        if self.db_created:
            conn = await asyncpg.connect(f"{self.opts.pg_url}/postgres")
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.opts.db_name}" WITH (FORCE)')
                console.print(f"cleanup: dropped database {self.opts.db_name}")
            finally:
                await conn.close()


@contextlib.asynccontextmanager
async def side_service(opts: Options, workers: int = 2) -> AsyncIterator[tuple[str, Servers]]:
    """A side benchmark's service (bench/spans.py, ledger.py, leagues.py, history.py).

    Its own database and key prefix (``opts``), ``serve --workers N`` started; yields the
    admin token and the servers; stops them and drops what the run made at the end.
    """
    token = secrets.token_urlsafe(24)
    env = service_env(opts, token)
    stores = Stores(opts, env)
    await stores.setup()
    servers = Servers(env, workers=workers)
    try:
        servers.start()
        yield token, servers
    finally:
        servers.stop()
        await stores.teardown()
