"""A generated admin token is printed on a terminal only, never into kept output (logs).

`leaderboard serve` with the session's Postgres and Redis and no LEADERBOARD_ADMIN_TOKEN:
once with its output on a pipe (as a container's log collector reads it), once on a
pseudo-terminal (as a person at a shell sees it).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import free_port
from tests.procs import clean_env, start_cli

pytestmark = pytest.mark.slow

BANNER_END = "Press Ctrl-C to stop."


def serve_env(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, str]:
    return clean_env(
        LEADERBOARD_DATABASE_URL=database_url,
        LEADERBOARD_REDIS_URL=redis_url,
        LEADERBOARD_DATA_DIR=str(tmp_path / "data"),
    )


def token_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "admin_token"


def test_not_on_a_terminal_the_banner_says_where_the_token_is(
    tmp_path: Path, database_url: str, redis_server_url: str
) -> None:
    env = serve_env(tmp_path, database_url, redis_server_url)
    serve = start_cli(["serve", "--port", str(free_port())], env, tmp_path)
    assert serve.stdout is not None
    try:
        banner = ""
        while BANNER_END not in banner:
            line = serve.stdout.readline()
            assert line, banner  # the process ended before its banner
            banner += line
    finally:
        serve.send_signal(signal.SIGTERM)
        output, _ = serve.communicate(timeout=30)
    token = token_file(tmp_path).read_text().strip()
    assert token not in banner + output
    assert f"generated now, kept in {tmp_path / 'data' / 'admin_token'}" in banner
    assert "not printed: the output is not a terminal" in banner


def test_on_a_terminal_the_generated_token_is_shown(
    tmp_path: Path, database_url: str, redis_server_url: str
) -> None:
    env = serve_env(tmp_path, database_url, redis_server_url)
    controller, terminal = pty.openpty()
    serve = subprocess.Popen(
        [sys.executable, "-m", "leaderboard", "serve", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while BANNER_END.encode() not in seen:
            assert time.monotonic() < deadline, seen.decode(errors="replace")
            ready, _, _ = select.select([controller], [], [], 1)
            if ready:
                seen += os.read(controller, 4096)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
        os.close(controller)
    token = token_file(tmp_path).read_text().strip()
    assert f"{token}  (generated now, kept in" in seen.decode()
