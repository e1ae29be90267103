"""A Redis that may evict indexes (allkeys-*) is reported by /ready and the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedValkey
from leaderboard.server.app import create_app
from tests.conftest import TEST_ADMIN_TOKEN


async def test_a_new_worker_reports_an_evicting_redis_at_once(
    own_valkey: EmbeddedValkey,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = Redis.from_url(own_valkey.url, decode_responses=True)
    try:
        await raw.config_set("maxmemory-policy", "allkeys-lru")
    finally:
        await raw.aclose()
    settings = Settings(
        database_url=database_url,
        redis_url=own_valkey.url,
        admin_token=TEST_ADMIN_TOKEN,
        data_dir=tmp_path / "data",
    )
    with caplog.at_level(logging.WARNING):
        async with AsyncTestClient(app=create_app(settings)) as client:
            first = (await client.get("/ready")).json()
            second = (await client.get("/ready")).json()
    assert first["status"] == "ok"
    assert any("allkeys-lru" in warning for warning in first["warnings"])
    assert second["warnings"] == first["warnings"], "told on every /ready while it lasts"
    logged = [r for r in caplog.records if "may evict leaderboard indexes" in r.getMessage()]
    assert len(logged) >= 2, "at start, and again from /ready (not only at start)"
