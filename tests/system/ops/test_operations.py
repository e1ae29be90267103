"""Operations features: metrics, MessagePack, Redis memory policy warnings."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import msgspec
import pytest
import redis as sync_redis
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedValkey
from leaderboard.server.app import create_app
from tests.conftest import ADMIN
from tests.helpers import sign_in


async def new_board(client: AsyncTestClient[Litestar], limit: int = 1000) -> str:
    board = f"o-{uuid.uuid4().hex[:12]}"
    body = {"id": board, "rate_limit": {"limit": limit, "window_seconds": 60}}
    assert (await client.post("/v1/leaderboards", json=body, headers=ADMIN)).status_code == 201
    return board


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        if sample == name or sample == f"{name}{{{wanted}}}":
            return float(value)
    return 0.0


async def test_metrics_count_requests_and_our_own(client: AsyncTestClient[Litestar]) -> None:
    board = await new_board(client, limit=2)
    player, headers = await sign_in(client)
    before = (await client.get("/metrics")).text
    url = f"/v1/leaderboards/{board}/scores"
    for score in (1, 2, 3):  # the third is throttled
        await client.post(url, json={"score": score}, headers=headers)
    await client.post(url, json={"score": 2**60}, headers=headers)  # refused by validation
    await client.get(f"/v1/leaderboards/{board}/top")
    await client.get(f"/v1/players/{player}")
    after = await client.get("/metrics")
    assert after.status_code == 200
    text = after.text
    delta = {
        outcome: metric(text, "leaderboard_submissions_total", outcome=outcome)
        - metric(before, "leaderboard_submissions_total", outcome=outcome)
        for outcome in ("accepted", "throttled")
    }
    assert delta == {"accepted": 2.0, "throttled": 1.0}
    assert (
        metric(text, "leaderboard_events_published_total")
        - metric(before, "leaderboard_events_published_total")
        == 2.0
    )
    assert metric(text, "leaderboard_profile_cache_total", result="hit") > 0
    assert metric(text, "leaderboard_redis_used_memory_bytes") > 0
    # Litestar's per-route request metrics, by route template.
    assert "leaderboard_requests_total" in text
    assert (
        "/v1/leaderboards/{board_id:str}/top" in text or "/v1/leaderboards/{board_id}/top" in text
    )
    assert "leaderboard_request_duration_seconds" in text


async def test_messagepack_when_asked_json_otherwise(client: AsyncTestClient[Litestar]) -> None:
    board = await new_board(client)
    player, headers = await sign_in(client, display_name="Packed")
    url = f"/v1/leaderboards/{board}/scores"
    packed = await client.post(
        url, json={"score": 5}, headers={**headers, "Accept": "application/msgpack"}
    )
    assert packed.status_code == 200
    assert packed.headers["content-type"].startswith("application/msgpack")
    result: dict[str, Any] = msgspec.msgpack.decode(packed.content)
    assert (result["player_id"], result["score"], result["rank"]) == (player, 5, 1)
    assert packed.headers["ratelimit-limit"] == "1000"

    for path in (
        f"/v1/leaderboards/{board}/top",
        f"/v1/leaderboards/{board}/players/{player}",
        f"/v1/leaderboards/{board}/players/{player}/around",
    ):
        as_json = await client.get(path)
        as_msgpack = await client.get(path, headers={"Accept": "application/x-msgpack"})
        assert as_json.headers["content-type"].startswith("application/json")
        assert as_msgpack.headers["content-type"].startswith("application/x-msgpack")
        assert msgspec.msgpack.decode(as_msgpack.content) == as_json.json()
    # Errors keep the contract's JSON shape.
    missing = await client.get(
        f"/v1/leaderboards/{board}/players/{uuid.uuid4()}",
        headers={"Accept": "application/msgpack"},
    )
    assert missing.status_code == 404
    assert missing.json()["status_code"] == 404


@pytest.mark.slow
@pytest.mark.parametrize(("policy", "warned"), [("allkeys-lru", True), ("volatile-lru", False)])
async def test_an_evicting_redis_is_warned_about(
    settings: Settings,
    own_valkey: EmbeddedValkey,
    caplog: pytest.LogCaptureFixture,
    policy: str,
    warned: bool,
) -> None:
    admin = sync_redis.Redis.from_url(own_valkey.url)
    admin.config_set("maxmemory-policy", policy)
    admin.close()
    caplog.set_level(logging.INFO, logger="leaderboard")
    app = create_app(msgspec.structs.replace(settings, redis_url=own_valkey.url))
    async with AsyncTestClient(app=app):
        pass
    warnings = [r for r in caplog.records if "may evict leaderboard indexes" in r.getMessage()]
    assert bool(warnings) is warned
