"""The guard runs by itself in a served worker: a lost key is repaired with nobody asking."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from tests.conftest import ADMIN
from tests.helpers import async_wait_until
from tests.procs import running_service, service_env
from tests.scores_helpers import insert_players, submit


async def test_a_served_worker_repairs_a_lost_key_by_itself(
    tmp_path: Path,
    database_url: str,
    redis_server_url: str,
    redis_key_prefix: str,
    redis: AnyRedis,
) -> None:
    env = service_env(
        tmp_path,
        database_url,
        redis_server_url,
        redis_key_prefix,
        LEADERBOARD_INDEX_CHECK_SECONDS="1",
    )
    with running_service(tmp_path, env) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            board_id = f"loop-{uuid.uuid4().hex[:8]}"
            body = {"id": board_id, "rate_limit": {"limit": 100, "window_seconds": 60}}
            assert (await http.post("/v1/leaderboards", json=body, headers=ADMIN)).is_success
            for i, (player, _) in enumerate(await insert_players(database_url, 10)):
                await submit(http, board_id, player, i + 1)
            keys = Keys(redis_key_prefix).index(board_id, "all")
            await redis.unlink(keys.members)  # one key of the index, as an eviction would

            async def repaired() -> bool:
                return bool(await redis.exists(keys.members))

            await async_wait_until(repaired, 20, "the worker to rebuild the index")
    assert "rebuilt from Postgres (missing)" in server.output
