"""Embedded servers keep their ports across restarts of `serve`, and `watch` follows a
restart: real `leaderboard serve` and `leaderboard watch` processes, embedded servers."""

from __future__ import annotations

import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import msgspec
import pytest

from leaderboard.events.models import RankChanged
from tests.helpers import free_port, wait_until
from tests.procs import clean_env, start_cli, watching

pytestmark = pytest.mark.slow


class Serve:
    """An embedded `leaderboard serve` on ``port`` that a test stops and starts again."""

    def __init__(self, tmp_path: Path, env: dict[str, str], port: int) -> None:
        self.tmp_path, self.env, self.port = tmp_path, env, port
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[str] | None = None

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self) -> None:
        process = self.process = start_cli(
            ["serve", "--port", str(self.port)], self.env, self.tmp_path
        )
        wait_until(lambda: self.ready() or process.poll() is not None, 60, "serve to be ready")
        assert process.poll() is None, process.communicate()[0]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        assert process.returncode == 0, output


@contextmanager
def taken(port: int) -> Iterator[None]:
    """Something else listening on ``port`` (connections to it are never answered)."""
    with socket.socket() as squatter:
        # The port's last connections may linger in TIME_WAIT, as after any server.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        yield


def kept_ports(data: Path) -> tuple[int, int]:
    return int((data / "valkey.port").read_text()), int((data / "postgres.port").read_text())


def submit(base: str, token: str, board: str, player: str, score: int) -> None:
    response = httpx.post(
        f"{base}/v1/leaderboards/{board}/scores",
        json={"score": score, "player_id": player},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_watch_follows_serve_across_restarts_and_a_taken_port(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = clean_env(LEADERBOARD_DATA_DIR=str(data))
    serve = Serve(tmp_path, env, free_port())
    board = f"restart-{uuid.uuid4().hex[:8]}"
    serve.start()
    try:
        token = (data / "admin_token").read_text().strip()
        admin = {"Authorization": f"Bearer {token}"}
        created = httpx.post(f"{serve.base}/v1/leaderboards", json={"id": board}, headers=admin)
        assert created.status_code == 201, created.text
        player = httpx.post(f"{serve.base}/v1/players", json={}, headers=admin).json()
        first_ports = kept_ports(data)
        with watching([board], env, tmp_path) as watcher:
            assert watcher.err is not None
            assert watcher.err.next(timeout=30).startswith("listening for rank changes")

            # 1. serve restarts: the same ports; watch prints what is submitted next.
            serve.stop()
            serve.start()
            assert kept_ports(data) == first_ports
            submit(serve.base, token, board, player["player_id"], 10)
            assert msgspec.json.decode(watcher.out.next(timeout=30), type=RankChanged).score == 10

            # 2. Something took Valkey's port while serve was down: Valkey gets another
            # port, kept from then on, and watch finds it in the data directory.
            serve.stop()
            with taken(first_ports[0]):
                serve.start()
                valkey_port, postgres_port = kept_ports(data)
                assert valkey_port != first_ports[0]
                assert postgres_port == first_ports[1]
                submit(serve.base, token, board, player["player_id"], 20)
                event = msgspec.json.decode(watcher.out.next(timeout=30), type=RankChanged)
                assert (event.leaderboard, event.score) == (board, 20)
    finally:
        serve.stop()
