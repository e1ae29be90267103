"""`/metrics` of a `leaderboard serve --workers 2`: every worker's figures, added up,
behind LEADERBOARD_METRICS_TOKEN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.helpers import assert_error_shape, wait_until
from tests.procs import running_service, service_env
from tests.system.ops.test_operations import metric

METRICS_TOKEN = "metrics-token-for-the-test-0123"


def worker_of(response: httpx.Response) -> str:
    """Which worker answered: request ids start with a random prefix per process."""
    return response.headers["x-request-id"][:8]


def test_the_workers_metrics_add_up_behind_the_token(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str, redis: Any
) -> None:
    env = service_env(
        tmp_path,
        database_url,
        redis_server_url,
        redis_key_prefix,
        LEADERBOARD_METRICS_TOKEN=METRICS_TOKEN,
    )
    with running_service(tmp_path, env, ("--workers", "2")) as service:
        refused = httpx.get(f"{service.base}/metrics", timeout=5)
        assert refused.status_code == 401
        assert_error_shape(refused.json(), 401)
        wrong = httpx.get(
            f"{service.base}/metrics", headers={"Authorization": "Bearer nope"}, timeout=5
        )
        assert wrong.status_code == 401
        auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}

        # Health checks until both workers answered some (a new connection each time).
        answered_by: dict[str, int] = {}
        for _ in range(400):
            answer = httpx.get(f"{service.base}/health", timeout=5)
            answered_by[worker_of(answer)] = answered_by.get(worker_of(answer), 0) + 1
            if len(answered_by) == 2 and sum(answered_by.values()) >= 20:
                break
        assert len(answered_by) == 2, answered_by
        total = sum(answered_by.values())

        def scrape() -> tuple[float, str]:
            answer = httpx.get(f"{service.base}/metrics", headers=auth, timeout=5)
            assert answer.status_code == 200
            counted = metric(
                answer.text,
                "leaderboard_requests_total",
                method="GET",
                path="/health",
                status_code="200",
            )
            return counted, worker_of(answer)

        # A worker writes its figures within a second (FLUSH_SECONDS): once one scrape
        # counts every request, whichever worker answers a scrape counts them all.
        wait_until(lambda: scrape()[0] == total, 10, f"{total} requests counted")
        scraped_by: set[str] = set()
        for _ in range(400):
            counted, worker = scrape()
            assert counted == total, (counted, answered_by)
            scraped_by.add(worker)
            if len(scraped_by) == 2:
                break
        assert len(scraped_by) == 2
