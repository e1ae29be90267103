"""`leaderboard demo` fills a board through a running service."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.procs import running_service, service_env, start_cli

pytestmark = pytest.mark.slow


def test_demo_fills_a_board_and_keeps_submitting(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> None:
    env = service_env(tmp_path, database_url, redis_server_url, redis_key_prefix)
    with running_service(tmp_path, env) as service:
        board = "demo-test"
        demo = start_cli(
            ["demo", "--url", service.base, "--board", board, "--players", "25",
             "--rate", "50", "--duration", "1"],
            env,
            tmp_path,
        )  # fmt: skip
        output, _ = demo.communicate(timeout=120)
        assert demo.returncode == 0, output
        submitted = int(output.strip().splitlines()[-1].split()[1])
        assert submitted > 25, "the trickle after the fill submitted scores too"
        top = httpx.get(f"{service.base}/v1/leaderboards/{board}/top?limit=100").json()
        assert top["total"] == 25
        assert all(entry["display_name"] for entry in top["entries"])
