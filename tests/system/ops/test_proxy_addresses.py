"""FORWARDED_ALLOW_IPS decides whose address the sign-in limit counts (README, Configuration)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.procs import running_service, service_env

pytestmark = pytest.mark.slow


def sign_ins(base: str, forwarded_for: str, count: int) -> list[int]:
    """Status codes of ``count`` new-device sign-ins claiming to come from ``forwarded_for``."""
    return [
        httpx.post(
            f"{base}/v1/auth/device",
            json={"device_id": f"device-{uuid.uuid4()}"},
            headers={"X-Forwarded-For": forwarded_for},
            timeout=10,
        ).status_code
        for _ in range(count)
    ]


@pytest.mark.parametrize(
    ("allowed", "separate"),
    [
        ("127.0.0.1", True),  # the proxy (here: the test) is listed: clients are told apart
        ("192.0.2.10", False),  # it is not: every client is the proxy's address
    ],
)
def test_the_sign_in_limit_counts_the_client_behind_a_listed_proxy(
    tmp_path: Path,
    database_url: str,
    redis_server_url: str,
    redis_key_prefix: str,
    allowed: str,
    separate: bool,
) -> None:
    env = service_env(tmp_path, database_url, redis_server_url, redis_key_prefix)
    # A prefix of this test's own: the limiter's keys of the parametrized runs stay apart.
    env["LEADERBOARD_REDIS_KEY_PREFIX"] = f"{redis_key_prefix}{uuid.uuid4().hex[:6]}:"
    env["LEADERBOARD_AUTH_RATE_LIMIT"] = "2"
    env["FORWARDED_ALLOW_IPS"] = allowed
    with running_service(tmp_path, env) as service:
        assert sign_ins(service.base, "203.0.113.1", 3) == [200, 200, 429]
        second_client = sign_ins(service.base, "203.0.113.2", 1)
    assert second_client == ([200] if separate else [429])
