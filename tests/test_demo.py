"""`leaderboard demo` fills a board through a running service."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_ADMIN_TOKEN
from tests.helpers import free_port, wait_until
from tests.procs import clean_env, start_cli

pytestmark = pytest.mark.slow


def test_demo_fills_a_board_and_keeps_submitting(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> None:
    port = free_port()
    env = clean_env(
        LEADERBOARD_DATABASE_URL=database_url,
        LEADERBOARD_REDIS_URL=redis_server_url,
        LEADERBOARD_REDIS_KEY_PREFIX=redis_key_prefix,
        LEADERBOARD_ADMIN_TOKEN=TEST_ADMIN_TOKEN,
        LEADERBOARD_DATA_DIR=str(tmp_path / "data"),
        LEADERBOARD_PORT=str(port),
        LEADERBOARD_AUTH_RATE_LIMIT="10000",
    )
    serve = start_cli(["serve"], env, tmp_path)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(lambda: up() or serve.poll() is not None, 30, "the server")
        board = "demo-test"
        demo = start_cli(
            ["demo", "--board", board, "--players", "25", "--rate", "50", "--duration", "1"],
            env,
            tmp_path,
        )
        output, _ = demo.communicate(timeout=120)
        assert demo.returncode == 0, output
        submitted = int(output.strip().splitlines()[-1].split()[1])
        assert submitted > 25, "the trickle after the fill submitted scores too"
        top = httpx.get(f"{base}/v1/leaderboards/{board}/top?limit=100").json()
        assert top["total"] == 25
        assert all(entry["display_name"] for entry in top["entries"])
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=30)
