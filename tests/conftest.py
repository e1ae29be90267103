"""Real services for the tests.

Postgres: with ``LEADERBOARD_TEST_DATABASE_URL`` set, that server (a fresh database is
created for the session and dropped after it); otherwise an embedded Postgres started
once for the session. Redis: with ``LEADERBOARD_TEST_REDIS_URL`` set, that server;
otherwise an embedded Valkey. Either way the session's keys live under a random prefix
and are deleted (SCAN + UNLINK) after each test: a shared Redis is never flushed.

Redis modes: a test marked ``redis_modes`` (or in a module so marked) runs twice, as
``test_x[single]`` against the Redis above and as ``test_x[cluster]`` against a local
3-master Redis Cluster (tests/cluster.py, started once for the session, only if a
selected test needs it). The ``redis_mode`` fixture says which; ``redis_url``,
``redis``, ``settings``, ``client`` and ``live`` follow it. ``single_node(reason=…)``
keeps a test of such a module on the single node; ``cluster_xfail(reason=…, raises=…)``
marks its cluster variant as a known bug (strict xfail). The cluster variants run when
``LEADERBOARD_TEST_REDIS_URL`` is unset (the embedded pass of .ci/run) unless
``LEADERBOARD_TEST_CLUSTER`` says otherwise (``1``: always, ``0``: never).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis import Redis as SyncRedis
from redis.asyncio import Redis, RedisCluster

from leaderboard.lib.clock import MovableClock
from leaderboard.lib.db import Database
from leaderboard.lib.features import Services
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedPostgres, EmbeddedValkey
from leaderboard.ops.migrations import apply_migrations
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.calendar import DAYS_THAT_MATTER, ORDINARY_DAY, noon
from tests.cluster import local_cluster

# The `browser` and `page` fixtures (headless Chromium) for tests of HTML pages.
pytest_plugins = ["tests.browser"]

TEST_ADMIN_TOKEN = "test-admin-token-0123456789"

SINGLE, CLUSTER = "single", "cluster"
_OWN_BASETEMP = pytest.StashKey[Path]()


def cluster_tests_enabled() -> bool:
    """Whether tests run on the local Redis Cluster in this session (see the module doc)."""
    forced = os.environ.get("LEADERBOARD_TEST_CLUSTER", "").strip()
    if forced in {"0", "1"}:
        return forced == "1"
    if forced:
        raise pytest.UsageError(f"LEADERBOARD_TEST_CLUSTER: expected 0 or 1, got {forced!r}")
    return not os.environ.get("LEADERBOARD_TEST_REDIS_URL")


CLUSTER_OFF_REASON = (
    "cluster tests run in the pass without LEADERBOARD_TEST_REDIS_URL; "
    "LEADERBOARD_TEST_CLUSTER=1 runs them here too"
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    cluster_tests_enabled()  # a wrong LEADERBOARD_TEST_CLUSTER stops the session at once
    if config.option.basetemp is None:
        # A directory of this session's own, outside /tmp/pytest-of-<user>: every pytest
        # session that starts takes that directory's permissions back to 0700, which
        # locks the embedded Postgres (it runs as another user when we are root) of any
        # session running at the same time out of its own data.
        config.option.basetemp = Path(tempfile.gettempdir()) / f"leaderboard-tests-{os.getpid()}"
        config.stash[_OWN_BASETEMP] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_OWN_BASETEMP, None)
    if own is not None:
        shutil.rmtree(own, ignore_errors=True)


SYSTEM_TESTS = Path(__file__).parent / "system"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/system start processes (`leaderboard serve`, servers, a browser):
    all of them are ``slow``, so the fast lane (``-m "not slow"``) leaves them out."""
    for item in items:
        if SYSTEM_TESTS in item.path.parents:
            item.add_marker(pytest.mark.slow)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Calendar tests run on each day that matters; ``redis_modes`` tests on each Redis."""
    if metafunc.definition.get_closest_marker("calendar") is not None:
        if "calendar_day" not in metafunc.fixturenames:
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: calendar needs calendar_day")
        metafunc.parametrize("calendar_day", DAYS_THAT_MATTER, indirect=True)
    if "redis_mode" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("redis_modes") is None:
        return
    single_node = metafunc.definition.get_closest_marker("single_node")
    if single_node is not None:
        if not single_node.kwargs.get("reason"):
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: single_node needs a reason")
        return
    if not cluster_tests_enabled():
        return
    cluster: Any = CLUSTER
    known_bug = metafunc.definition.get_closest_marker("cluster_xfail")
    if known_bug is not None:
        cluster = pytest.param(CLUSTER, marks=pytest.mark.xfail(strict=True, **known_bug.kwargs))
    metafunc.parametrize("redis_mode", [SINGLE, cluster], indirect=True)


@pytest.fixture
def calendar_day(request: pytest.FixtureRequest) -> date:
    """The day this test runs on (tests/calendar.py): one of the days that matter for a
    test marked ``calendar``, else an ordinary day."""
    return cast("date", getattr(request, "param", ORDINARY_DAY))


@pytest.fixture
def clock(calendar_day: date) -> MovableClock:
    """The service's clock in this test: noon of ``calendar_day``, running on from there."""
    return MovableClock(noon(calendar_day))


@pytest.fixture
def redis_mode(request: pytest.FixtureRequest) -> str:
    """``single`` or ``cluster``: which Redis this test runs against (see the module doc)."""
    return str(getattr(request, "param", SINGLE))


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


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A node URL of a local 3-master Redis Cluster, started on first use for the session."""
    if not cluster_tests_enabled():
        pytest.skip(CLUSTER_OFF_REASON)
    with local_cluster(tmp_path_factory.mktemp("cluster")) as url:
        yield url


@pytest.fixture
def redis_url(request: pytest.FixtureRequest, redis_mode: str) -> str:
    """The URL of this test's Redis: the session's single node, or a cluster node."""
    fixture = "redis_cluster_url" if redis_mode == CLUSTER else "redis_server_url"
    return str(request.getfixturevalue(fixture))


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
def redis_key_prefix(redis_server_url: str) -> Iterator[str]:
    """This session's key prefix; what is left under it goes when the session ends.

    The ``redis`` fixture cleans after each test; services that a module or the session
    runs (a `leaderboard serve` for the live page) leave keys that only this finds.
    """
    prefix = f"lbtest:{secrets.token_hex(6)}:"
    yield prefix
    with SyncRedis.from_url(redis_server_url) as client:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)


async def raw_redis(url: str, *, cluster: bool) -> AnyRedis:
    """A plain client (RESP2, decoded replies) to a single node or to a cluster."""
    if cluster:
        client = RedisCluster.from_url(url, protocol=2, decode_responses=True)
        await client.initialize()  # concurrent first commands would race the slot map
        return client
    return Redis.from_url(url, protocol=2, decode_responses=True)


async def delete_keys(client: AnyRedis, pattern: str) -> None:
    """UNLINK every key matching ``pattern`` (on a cluster: SCAN visits every primary)."""
    batch: list[str] = []
    async for key in client.scan_iter(match=pattern, count=500):
        batch.append(key)
        if len(batch) >= 500:
            await client.unlink(*batch)
            batch.clear()
    if batch:
        await client.unlink(*batch)


@pytest.fixture
async def redis(redis_url: str, redis_mode: str, redis_key_prefix: str) -> AsyncIterator[AnyRedis]:
    """A raw client to the test Redis; every key under the session prefix goes after the test."""
    client = await raw_redis(redis_url, cluster=redis_mode == CLUSTER)
    try:
        yield client
    finally:
        await delete_keys(client, f"{redis_key_prefix}*")
        await client.aclose()


@pytest.fixture
def settings(
    database_url: str,
    redis_url: str,
    redis_mode: str,
    redis_key_prefix: str,
    tmp_path: Path,
    calendar_day: date,
) -> Settings:
    """The service's settings in this test; an app made from them without a clock of the
    test's own lives on the test's day too (``clock_start``)."""
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        redis_cluster=redis_mode == CLUSTER,
        redis_key_prefix=redis_key_prefix,
        admin_token=TEST_ADMIN_TOKEN,
        data_dir=tmp_path / "data",
        # Tests sign many players in from one address; the auth limit has its own test.
        auth_rate_limit=10_000,
        clock_start=noon(calendar_day),
    )


ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


@pytest.fixture
async def client(
    settings: Settings, redis: AnyRedis, clock: MovableClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app over its real dependencies, through Litestar's test client."""
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as test_client:
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


@asynccontextmanager
async def serving(
    settings: Settings, *, clock: MovableClock | None = None, timeout: float = 5.0
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The app in this test's event loop: a client to it, and its services.

    Litestar's AsyncTestClient hands every request to a portal thread and blocks the
    calling loop until the response is complete, so ``asyncio.gather`` over it runs the
    requests one after the other. httpx's ASGITransport calls the app in this loop.
    """
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=cast("Any", app))  # Litestar's own ASGI types
    async with (
        running(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://testserver.local", timeout=timeout
        ) as http,
    ):
        yield http, app.plugins.get(InfrastructurePlugin).services


@pytest.fixture
async def live(
    settings: Settings, redis: AnyRedis, clock: MovableClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app in this test's event loop, for requests that really run concurrently."""
    async with serving(settings, clock=clock) as (http, _):
        yield http


Http = httpx.AsyncClient


class Workers(tuple[Http, Http]):
    """Two workers' clients (``a, b = workers``), and each one's services."""

    services: tuple[Services, Services]


@pytest.fixture
async def workers(
    settings: Settings, redis: AnyRedis, clock: MovableClock
) -> AsyncIterator[Workers]:
    """Two app instances over one Postgres and Redis, as two worker processes are, each
    subscribed to the invalidation channel (and on the test's clock)."""
    from leaderboard.lib.invalidation import Invalidations
    from tests.helpers import async_wait_until

    apps: list[Litestar] = [create_app(settings, clock=clock), create_app(settings, clock=clock)]
    transports = [httpx.ASGITransport(app=cast("Any", app)) for app in apps]
    async with (
        running(apps[0]),
        running(apps[1]),
        httpx.AsyncClient(transport=transports[0], base_url="http://a.local") as a,
        httpx.AsyncClient(transport=transports[1], base_url="http://b.local") as b,
    ):
        for app in apps:
            invalidations = app.plugins.get(InfrastructurePlugin).services.get(Invalidations)

            async def subscribed(inv: Invalidations = invalidations) -> bool:
                return inv.connected.is_set()

            await async_wait_until(subscribed, 10, "the invalidation subscription")
        pair = Workers((a, b))
        pair.services = (
            apps[0].plugins.get(InfrastructurePlugin).services,
            apps[1].plugins.get(InfrastructurePlugin).services,
        )
        yield pair
