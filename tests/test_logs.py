"""Logs: one JSON object per line off a terminal, request ids, and never a secret."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import httpx
import msgspec
import pytest

from leaderboard.logs import redact
from tests.conftest import TEST_ADMIN_TOKEN
from tests.helpers import free_port, wait_until
from tests.procs import clean_env, start_cli


def test_redact_scrubs_tokens() -> None:
    token = f"{uuid.uuid4()}.{'A' * 43}"
    assert token not in redact(f"got {token} here")
    assert "s3cret" not in redact("Authorization: Bearer s3cret")


@pytest.mark.slow
def test_serve_logs_json_lines_without_secrets(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> None:
    port = free_port()
    env = clean_env(
        LEADERBOARD_DATABASE_URL=database_url,
        LEADERBOARD_REDIS_URL=redis_server_url,
        LEADERBOARD_REDIS_KEY_PREFIX=redis_key_prefix,
        LEADERBOARD_ADMIN_TOKEN=TEST_ADMIN_TOKEN,
        LEADERBOARD_DATA_DIR=str(tmp_path / "data"),
        LEADERBOARD_LOG_LEVEL="debug",
    )
    serve = start_cli(["serve", "--port", str(port)], env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    device = f"device-very-secret-{uuid.uuid4()}"
    secrets_sent = [device, TEST_ADMIN_TOKEN]

    def up() -> bool:
        try:
            return httpx.get(f"{base}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(lambda: up() or serve.poll() is not None, 30, "the server")
        with httpx.Client(base_url=base, timeout=10) as http:
            signed = http.post("/v1/auth/device", json={"device_id": device}).json()
            token = signed["token"]
            secrets_sent.append(token)
            auth = {"Authorization": f"Bearer {token}"}
            echoed = http.get("/v1/players/me", headers={**auth, "X-Request-ID": "trace-42"})
            assert echoed.headers["x-request-id"] == "trace-42"
            assert http.get("/health").headers["x-request-id"]
            http.get("/v1/players/me", headers={"Authorization": f"Bearer {token}x"})  # 401
            http.post(
                "/v1/leaderboards",
                json={"id": "x"},
                headers={"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"},
            )
            http.delete(
                f"/v1/leaderboards/{'x'}", headers={"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
            )
            http.delete("/v1/auth/session", headers=auth)
    finally:
        serve.send_signal(signal.SIGTERM)
        output, _ = serve.communicate(timeout=30)

    log_lines = [line for line in output.splitlines() if line.startswith("{")]
    assert log_lines, output
    for line in log_lines:
        entry = msgspec.json.decode(line)
        assert {"ts", "level", "logger", "message"} <= set(entry)
    for secret in secrets_sent:
        assert secret not in output, "a secret reached the logs"
