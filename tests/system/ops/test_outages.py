"""Postgres and Redis going away and coming back, under a running app.

The servers here are started by the test (embedded Postgres and Valkey on ports of their
own) so that stopping them disturbs nobody else.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from leaderboard.lib.deps import DatabaseDep, RedisDep
from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedPostgres, EmbeddedValkey
from leaderboard.server.app import create_app
from tests.helpers import async_wait_until

pytestmark = pytest.mark.slow


@get("/test/postgres")
async def needs_postgres(db: DatabaseDep) -> dict[str, int]:
    return {"answer": await db.fetchval("SELECT 41 + 1")}


@get("/test/redis")
async def needs_redis(redis: RedisDep) -> dict[str, int]:
    return {"answer": int(await redis.incr("lbtest:outage:counter"))}


@pytest.fixture
async def outage_client(
    own_postgres: EmbeddedPostgres, own_valkey: EmbeddedValkey, tmp_path: Path
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = Settings(
        database_url=own_postgres.url,
        redis_url=own_valkey.url,
        admin_token="outage-admin-token-0123",
        data_dir=tmp_path / "data",
        db_timeout=1.0,
        redis_timeout=0.5,
        ready_timeout=1.0,
    )
    app = create_app(settings)
    app.register(needs_postgres)
    app.register(needs_redis)
    async with AsyncTestClient(app=app) as client:
        yield client


async def status_of(client: AsyncTestClient[Litestar], path: str) -> int:
    return (await client.get(path)).status_code


async def assert_503_naming(
    client: AsyncTestClient[Litestar], path: str, dependency: str
) -> dict[str, Any]:
    started = time.monotonic()
    response = await client.get(path)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    body: dict[str, Any] = response.json()
    assert body["status_code"] == 503
    assert dependency in body["detail"]
    assert "127.0.0.1" not in response.text, "internal addresses stay out of responses"
    assert elapsed < 4, f"answered after {elapsed:.1f} s: must fail fast, not hang"
    return body


async def test_redis_stopped_then_back(
    outage_client: AsyncTestClient[Litestar], own_valkey: EmbeddedValkey
) -> None:
    assert (await outage_client.get("/test/redis")).json() == {"answer": 1}
    own_valkey.stop()

    body = await assert_503_naming(outage_client, "/test/redis", "redis")
    assert body["dependency"] == "redis"
    assert body["detail"].startswith("redis is unavailable")
    ready = await assert_503_naming(outage_client, "/ready", "redis")
    assert ready["checks"]["postgres"] == "ok"
    # Postgres-only work is not affected.
    assert (await outage_client.get("/test/postgres")).json() == {"answer": 42}

    own_valkey.start()  # same port, same append-only file
    await async_wait_until(
        lambda: _is(outage_client, "/ready", 200), 10, "/ready to recover after Redis restart"
    )
    # The counter survived the restart (append-only file), and the client reconnected.
    assert (await outage_client.get("/test/redis")).json() == {"answer": 2}


async def test_a_redis_restart_between_requests_costs_no_request(
    outage_client: AsyncTestClient[Litestar], own_valkey: EmbeddedValkey
) -> None:
    # The pooled connection is dead after the restart; the client's one retry on a broken
    # connection reconnects, so the very next request is answered, not a 503.
    assert (await outage_client.get("/test/redis")).json() == {"answer": 1}
    own_valkey.stop()
    own_valkey.start(same_port=True)  # returns once the server answers PING
    response = await outage_client.get("/test/redis")
    assert response.status_code == 200, response.text
    assert response.json() == {"answer": 2}


async def test_redis_hung_answers_503_within_the_timeout(
    outage_client: AsyncTestClient[Litestar], own_valkey: EmbeddedValkey
) -> None:
    assert await status_of(outage_client, "/test/redis") == 200
    assert own_valkey.pid is not None
    os.kill(own_valkey.pid, signal.SIGSTOP)
    try:
        await assert_503_naming(outage_client, "/test/redis", "redis")
        await assert_503_naming(outage_client, "/ready", "redis")
    finally:
        os.kill(own_valkey.pid, signal.SIGCONT)
    await async_wait_until(
        lambda: _is(outage_client, "/test/redis", 200), 10, "Redis to answer again"
    )


async def test_postgres_stopped_then_back(
    outage_client: AsyncTestClient[Litestar], own_postgres: EmbeddedPostgres
) -> None:
    assert (await outage_client.get("/test/postgres")).json() == {"answer": 42}
    own_postgres.stop()

    body = await assert_503_naming(outage_client, "/test/postgres", "postgres")
    assert body["dependency"] == "postgres"
    ready = await assert_503_naming(outage_client, "/ready", "postgres")
    assert ready["checks"]["redis"] == "ok"
    assert await status_of(outage_client, "/test/redis") == 200

    own_postgres.start()
    await async_wait_until(
        lambda: _is(outage_client, "/test/postgres", 200), 15, "Postgres queries to work again"
    )
    assert await status_of(outage_client, "/ready") == 200


async def test_the_app_starts_while_postgres_is_down(
    own_postgres: EmbeddedPostgres, own_valkey: EmbeddedValkey, tmp_path: Path
) -> None:
    own_postgres.stop()
    settings = Settings(
        database_url=own_postgres.url,
        redis_url=own_valkey.url,
        data_dir=tmp_path / "data",
        db_timeout=1.0,
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        await assert_503_naming(client, "/ready", "postgres")
        own_postgres.start()
        await async_wait_until(
            lambda: _is(client, "/ready", 200), 15, "/ready after Postgres starts"
        )


async def _is(client: AsyncTestClient[Litestar], path: str, status: int) -> bool:
    return (await client.get(path)).status_code == status
