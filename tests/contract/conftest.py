"""A `leaderboard serve` of their own for the contract tests (schemathesis, generated client).

It runs over a database created for it (and dropped after) and a Redis key prefix of its
own (deleted after): schemathesis creates boards and players with whatever ids it draws,
which must not meet the other tests' data.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import create_database, delete_keys, drop_database, raw_redis
from tests.procs import RunningService, running_service, service_env


async def _forget(redis_url: str, prefix: str) -> None:
    client = await raw_redis(redis_url, cluster=False)
    try:
        await delete_keys(client, f"{prefix}*")
    finally:
        await client.aclose()


@pytest.fixture(scope="package")
def contract_service(
    tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str, redis_server_url: str
) -> Iterator[RunningService]:
    """The service as clients see it: `leaderboard serve` (it migrates the new database)."""
    database = f"leaderboard_contract_{secrets.token_hex(6)}"
    database_url = asyncio.run(create_database(postgres_server_url, database))
    prefix = f"lbcontract:{secrets.token_hex(6)}:"
    tmp_path = tmp_path_factory.mktemp("contract")
    try:
        env = service_env(tmp_path, database_url, redis_server_url, prefix)
        with running_service(tmp_path, env) as service:
            yield service
    finally:
        asyncio.run(_forget(redis_server_url, prefix))
        asyncio.run(drop_database(postgres_server_url, database))
