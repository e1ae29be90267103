"""The README's walk-through of one board's views (spans, shared ranks, a country tab),
run as it is written against a real serve (tests/readme_walk.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_ADMIN_TOKEN
from tests.procs import running_service, service_env
from tests.readme_walk import run_step, walk_through

pytestmark = pytest.mark.slow

HEADING = "### One board, several views: all time and this week, by country"


def player(base: str, name: str, country: str) -> dict[str, str]:
    """A signed-in player with a profile country (as the README's earlier steps make)."""
    signed: dict[str, str] = httpx.post(
        f"{base}/v1/auth/device",
        json={"device_id": f"readme-views-{name.lower()}-0001", "display_name": name},
        timeout=10,
    ).json()
    httpx.patch(
        f"{base}/v1/players/{signed['player_id']}",
        json={"country": country},
        headers={"Authorization": f"Bearer {signed['token']}"},
        timeout=10,
    ).raise_for_status()
    return signed


def test_the_readme_views_walk_through_runs_as_written(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> None:
    steps = walk_through(HEADING)
    assert len(steps) == 5
    env = service_env(tmp_path, database_url, redis_server_url, redis_key_prefix)
    with running_service(tmp_path, env) as service:
        ada = player(service.base, "Ada", "GB")
        ada_id = ada["player_id"]
        variables = {
            "ADMIN_TOKEN": TEST_ADMIN_TOKEN,
            "TOKEN": ada["token"],
            "PLAYER": ada["player_id"],
            "PATH": env["PATH"],
        }
        create, *rest = steps
        run_step(*create, base=service.base, variables=variables, player_id=ada_id)
        # "after Grace (US, 1500) and Lin (GB, 1200) have played"
        for name, country, score in (("Grace", "US", 1500), ("Lin", "GB", 1200)):
            other = player(service.base, name, country)
            httpx.post(
                f"{service.base}/v1/leaderboards/arena/scores",
                json={"score": score},
                headers={"Authorization": f"Bearer {other['token']}"},
                timeout=10,
            ).raise_for_status()
        for command, shown in rest:
            run_step(command, shown, base=service.base, variables=variables, player_id=ada_id)
