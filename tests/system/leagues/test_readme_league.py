"""The README's weekly league walk-through, run as it is written against a real serve
(tests/readme_walk.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_ADMIN_TOKEN
from tests.procs import running_service, service_env
from tests.readme_walk import run_step, walk_through

pytestmark = pytest.mark.slow

HEADING = "### A weekly league: three tiers, promotion and demotion"


def test_the_readme_league_walk_through_runs_as_written(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> None:
    steps = walk_through(HEADING)
    assert len(steps) == 7
    env = service_env(tmp_path, database_url, redis_server_url, redis_key_prefix)
    with running_service(tmp_path, env) as service:
        signed = httpx.post(
            f"{service.base}/v1/auth/device",
            json={"device_id": "readme-league-ada-0001", "display_name": "Ada"},
            timeout=10,
        ).json()
        ada_id = signed["player_id"]
        variables = {
            "ADMIN_TOKEN": TEST_ADMIN_TOKEN,
            "TOKEN": signed["token"],
            "PLAYER": signed["player_id"],
            "PATH": env["PATH"],
        }
        for command, shown in steps:
            run_step(command, shown, base=service.base, variables=variables, player_id=ada_id)
        league = httpx.get(f"{service.base}/v1/leagues/weekly-league", timeout=10).json()
        assert league["season"] == 2
