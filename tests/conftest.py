"""Real services for the tests.

Postgres: with ``LEADERBOARD_TEST_DATABASE_URL`` set, that server (a fresh database is
created for the session and dropped after it); otherwise an embedded Postgres started
once for the session. Redis: with ``LEADERBOARD_TEST_REDIS_URL`` set, that server;
otherwise an embedded Valkey. Either way the session's keys live under a random prefix
and are deleted (SCAN + UNLINK) after each test: a shared Redis is never flushed.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from leaderboard.app import create_app
from leaderboard.db import Database
from leaderboard.embedded import EmbeddedPostgres, EmbeddedValkey
from leaderboard.migrations import apply_migrations
from leaderboard.settings import Settings

TEST_ADMIN_TOKEN = "test-admin-token-0123456789"


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Postgres superuser URL: the machine's (from the environment) or an embedded one."""
    shared = os.environ.get("LEADERBOARD_TEST_DATABASE_URL")
    if shared:
        yield shared
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("embedded-postgres"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    shared = os.environ.get("LEADERBOARD_TEST_REDIS_URL")
    if shared:
        yield shared
        return
    server = EmbeddedValkey(tmp_path_factory.mktemp("embedded-valkey"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A Postgres of this test's own, which the test may stop and start."""
    server = EmbeddedPostgres(tmp_path / "own-postgres")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_valkey(tmp_path: Path) -> Iterator[EmbeddedValkey]:
    """A Valkey of this test's own, which the test may stop, hang and start."""
    server = EmbeddedValkey(tmp_path / "own-valkey")
    server.start()
    yield server
    server.stop()


async def create_database(server_url: str, name: str) -> str:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A migrated database of this test session's own."""
    name = f"leaderboard_test_{secrets.token_hex(6)}"
    url = asyncio.run(create_database(postgres_server_url, name))
    try:
        asyncio.run(apply_migrations(url))
        yield url
    finally:
        asyncio.run(drop_database(postgres_server_url, name))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The service's Database wrapper over the session's database, for service-level tests."""
    database = Database(database_url)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
async def fresh_database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """An empty database for one test (migration tests), dropped after it."""
    name = f"leaderboard_test_{secrets.token_hex(6)}"
    url = await create_database(postgres_server_url, name)
    try:
        yield url
    finally:
        await drop_database(postgres_server_url, name)


@pytest.fixture(scope="session")
def redis_key_prefix() -> str:
    return f"lbtest:{secrets.token_hex(6)}:"


async def delete_keys(client: Redis, pattern: str) -> None:
    batch: list[str] = []
    async for key in client.scan_iter(match=pattern, count=500):
        batch.append(key)
        if len(batch) >= 500:
            await client.unlink(*batch)
            batch.clear()
    if batch:
        await client.unlink(*batch)


@pytest.fixture
async def redis(redis_server_url: str, redis_key_prefix: str) -> AsyncIterator[Redis]:
    """A raw client to the test Redis; every key under the session prefix goes after the test."""
    client = Redis.from_url(redis_server_url, protocol=2, decode_responses=True)
    try:
        yield client
    finally:
        await delete_keys(client, f"{redis_key_prefix}*")
        await client.aclose()


@pytest.fixture
def settings(
    database_url: str, redis_server_url: str, redis_key_prefix: str, tmp_path: Path
) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_server_url,
        redis_key_prefix=redis_key_prefix,
        admin_token=TEST_ADMIN_TOKEN,
        data_dir=tmp_path / "data",
        # Tests sign many players in from one address; the auth limit has its own test.
        auth_rate_limit=10_000,
    )


ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


@pytest.fixture
async def client(settings: Settings, redis: Redis) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app over its real dependencies, through Litestar's test client."""
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """Run the app's lifespan in a task of its own (it must start and end in one task)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiter], timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if not started.is_set():
        waiter.cancel()
        await task  # raises what stopped the start-up
        raise AssertionError("the app did not start within 30 s")
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.fixture
async def live(settings: Settings, redis: Redis) -> AsyncIterator[httpx.AsyncClient]:
    """The app in this test's event loop, for requests that really run concurrently.

    Litestar's AsyncTestClient hands every request to a portal thread and blocks the
    calling loop until the response is complete, so ``asyncio.gather`` over it runs the
    requests one after the other. httpx's ASGITransport calls the app in this loop.
    """
    app = create_app(settings)
    transport = httpx.ASGITransport(app=cast("Any", app))  # Litestar's own ASGI types
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http,
    ):
        yield http
