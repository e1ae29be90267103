"""A submission whose Postgres went silent after the statement was sent: nothing counted twice.

Postgres (a server of this test's own) is paused with SIGSTOP, longer than the service's
LEADERBOARD_DB_TIMEOUT, while a submission's statement is on its way. The client hears
503 "outcome unknown"; when Postgres resumes, the statement may commit after all (or be
cancelled). Either way, the served rank converges to what Postgres holds, and a retry with
the same Idempotency-Key counts the score exactly once.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest

from leaderboard.lib.features import Services
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedPostgres
from leaderboard.ops.migrations import apply_migrations
from leaderboard.ranking.guard import IndexGuard
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import ADMIN, TEST_ADMIN_TOKEN, running
from tests.helpers import async_wait_until

pytestmark = pytest.mark.slow


@contextmanager
def paused(server: EmbeddedPostgres) -> Iterator[None]:
    """SIGSTOP the postmaster and every backend (a hung host, as far as clients can tell)."""
    assert server.pid is not None
    root = psutil.Process(server.pid)
    processes = [root, *root.children(recursive=True)]
    for process in processes:
        os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for process in processes:
            os.kill(process.pid, signal.SIGCONT)


@pytest.fixture
async def service(
    own_postgres: EmbeddedPostgres, redis_server_url: str, redis_key_prefix: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    await apply_migrations(own_postgres.url)
    settings = Settings(
        database_url=own_postgres.url,
        redis_url=redis_server_url,
        redis_key_prefix=redis_key_prefix,
        admin_token=TEST_ADMIN_TOKEN,
        data_dir=tmp_path / "data",
        db_timeout=1.0,
        auth_rate_limit=10_000,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://paused.local", timeout=30) as http,
    ):
        yield http, app.plugins.get(InfrastructurePlugin).services


async def postgres_score(url: str, board_id: str, player_id: str) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            "SELECT score FROM scores WHERE leaderboard_id = $1 AND player_id = $2",
            board_id,
            uuid.UUID(player_id),
        )
    finally:
        await conn.close()


async def test_a_timed_out_write_is_never_counted_twice(
    service: tuple[httpx.AsyncClient, Services],
    own_postgres: EmbeddedPostgres,
    redis: AnyRedis,
    redis_key_prefix: str,
) -> None:
    http, services = service
    board_id = f"paused-{uuid.uuid4().hex[:8]}"
    body = {"id": board_id, "operator": "sum", "rate_limit": {"limit": 100, "window_seconds": 60}}
    assert (await http.post("/v1/leaderboards", json=body, headers=ADMIN)).status_code == 201
    signed = await http.post("/v1/auth/device", json={"device_id": f"d-{uuid.uuid4()}"})
    player = signed.json()["player_id"]
    headers = {"Authorization": f"Bearer {signed.json()['token']}"}
    url = f"/v1/leaderboards/{board_id}/scores"
    first = await http.post(url, json={"score": 1000}, headers={**headers, "Idempotency-Key": "a"})
    assert first.status_code == 200, first.text

    retry_headers = {**headers, "Idempotency-Key": "b"}
    with paused(own_postgres):
        lost = await http.post(url, json={"score": 2000}, headers=retry_headers)
    assert lost.status_code == 503, lost.text
    assert lost.json()["outcome"] == "unknown"
    assert "Idempotency-Key" in lost.json()["detail"]

    # Whatever Postgres did with it, the index converges to Postgres by itself.
    entry_url = f"/v1/leaderboards/{board_id}/players/{player}"
    keys = Keys(redis_key_prefix).index(board_id, "all")

    async def converged() -> bool:
        await services.get(IndexGuard).run_once()
        await redis.delete(keys.check)  # let the next round check it again at once
        held = await postgres_score(own_postgres.url, board_id, player)
        served = (await http.get(entry_url)).json()["score"]
        return bool(held == served)

    await async_wait_until(converged, 30, "the served score to equal Postgres'")
    # Here (seen every time) Postgres committed the paused statement when it resumed.
    assert await postgres_score(own_postgres.url, board_id, player) in (1000, 3000)

    # The client retries as told: the score counts once, whatever happened to the first.
    async def retried() -> bool:
        response = await http.post(url, json={"score": 2000}, headers=retry_headers)
        return response.status_code == 200

    await async_wait_until(retried, 30, "the retry to be answered")
    assert await postgres_score(own_postgres.url, board_id, player) == 3000
    assert (await http.get(entry_url)).json()["score"] == 3000
