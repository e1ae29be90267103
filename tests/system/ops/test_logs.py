"""Logs: one JSON object per line off a terminal, request ids, and never a secret."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import httpx
import msgspec
import pytest

from leaderboard.lib.logs import redact
from tests.conftest import TEST_ADMIN_TOKEN
from tests.helpers import wait_until
from tests.procs import running_service, service_env


def test_redact_scrubs_tokens() -> None:
    token = f"{uuid.uuid4()}.{'A' * 43}"
    assert token not in redact(f"got {token} here")
    assert "s3cret" not in redact("Authorization: Bearer s3cret")


@pytest.mark.slow
def test_serve_logs_json_lines_without_secrets(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> None:
    env = service_env(
        tmp_path, database_url, redis_server_url, redis_key_prefix, LEADERBOARD_LOG_LEVEL="debug"
    )
    device = f"device-very-secret-{uuid.uuid4()}"
    secrets_sent = [device, TEST_ADMIN_TOKEN]
    admin = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
    with (
        running_service(tmp_path, env) as service,
        httpx.Client(base_url=service.base, timeout=10) as http,
    ):
        token = http.post("/v1/auth/device", json={"device_id": device}).json()["token"]
        secrets_sent.append(token)
        auth = {"Authorization": f"Bearer {token}"}
        echoed = http.get("/v1/players/me", headers={**auth, "X-Request-ID": "trace-42"})
        assert echoed.headers["x-request-id"] == "trace-42"
        assert http.get("/health").headers["x-request-id"]
        http.get("/v1/players/me", headers={"Authorization": f"Bearer {token}x"})  # 401
        http.post("/v1/leaderboards", json={"id": "logged"}, headers=admin)
        http.delete("/v1/leaderboards/logged", headers=admin)
        http.delete("/v1/auth/session", headers=auth)
    output = service.output
    log_lines = [line for line in output.splitlines() if line.startswith("{")]
    assert log_lines, output
    for line in log_lines:
        entry = msgspec.json.decode(line)
        assert {"ts", "level", "logger", "message"} <= set(entry)
    for secret in secrets_sent:
        assert secret not in output, "a secret reached the logs"


@pytest.mark.slow
def test_a_client_that_hangs_up_mid_body_is_one_line_without_traceback(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> None:
    env = service_env(tmp_path, database_url, redis_server_url, redis_key_prefix)
    path = "/v1/leaderboards"
    with running_service(tmp_path, env) as service:
        port = int(service.base.rsplit(":", 1)[1])
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: half-a-body\r\n"
            f"Authorization: Bearer {TEST_ADMIN_TOKEN}\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(head.encode() + b'{"id": "half-')  # 13 of the 1000 bytes, then gone

        def counted() -> bool:
            metrics = httpx.get(f"{service.base}/metrics", timeout=5).text
            return f'method="POST",path="{path}",status_code="499"' in metrics

        wait_until(counted, 10, "the hang-up to be counted")
    lines = [line for line in service.output.splitlines() if "half-a-body" in line]
    assert len(lines) == 1, service.output
    entry = msgspec.json.decode(lines[0])
    assert entry["level"] == "info"
    assert path in entry["message"]
    assert "exception" not in entry
    assert "Traceback" not in service.output
