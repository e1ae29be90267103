"""Edge cases a review found: input that used to give 500s, and data-losing sequences."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from leaderboard.lib.keys import Keys
from tests.conftest import ADMIN
from tests.helpers import sign_in
from tests.scores_helpers import create_board


async def test_a_duplicate_create_leaves_the_existing_board_alone(
    client: AsyncTestClient[Litestar], redis: Redis, redis_key_prefix: str
) -> None:
    board = await create_board(client)
    _, headers = await sign_in(client)
    await client.post(f"/v1/leaderboards/{board}/scores", json={"score": 3}, headers=headers)
    ready = Keys(redis_key_prefix).index(board, "all").ready
    assert await redis.exists(ready)
    again = await client.post("/v1/leaderboards", json={"id": board}, headers=ADMIN)
    assert again.status_code == 409
    assert await redis.exists(ready), "the 409 must not wipe the board's index"


async def test_an_unchanged_submission_after_an_index_loss_publishes_nothing(
    client: AsyncTestClient[Litestar], redis: Redis, redis_key_prefix: str
) -> None:
    board = await create_board(client)
    _, headers = await sign_in(client)
    url = f"/v1/leaderboards/{board}/scores"
    await client.post(url, json={"score": 50}, headers=headers)
    keys = Keys(redis_key_prefix)
    async for key in redis.scan_iter(match=keys.board_pattern(board)):
        await redis.unlink(key)
    pubsub: PubSub = redis.pubsub()
    await pubsub.subscribe(keys.events_channel(board))
    assert (await pubsub.get_message(timeout=5)) is not None  # subscribed
    worse = await client.post(url, json={"score": 10}, headers=headers)
    assert worse.json()["changed"] is False
    assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5) is None
    await pubsub.aclose()  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "POST",
            "/v1/leaderboards",
            b'{"id": "nul-meta", "metadata": {"a": "x\\u0000y"}}',
            "metadata",
        ),
        ("POST", "/v1/leaderboards", b'{"id": "nul-name", "name": "a\\u0000b"}', "name"),
        (
            "POST",
            "/v1/auth/device",
            b'{"device_id": "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8"}',
            "body",
        ),
        (
            "POST",
            "/v1/auth/device",
            b'{"device_id": "abcdefgh", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            "body",
        ),
    ],
)
async def test_bodies_that_used_to_500_are_400(
    client: AsyncTestClient[Litestar], method: str, path: str, body: bytes, field: str
) -> None:
    response = await client.request(
        method, path, content=body, headers={**ADMIN, "content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["status_code"] == 400
    assert payload["field"] == field
    assert payload["errors"][0]["field"] == field


async def test_an_audit_cursor_beyond_bigint_is_400(client: AsyncTestClient[Litestar]) -> None:
    """schemathesis found it: the driver refused the number, and that was a 500."""
    response = await client.get("/v1/audit", params={"before": 2**63}, headers=ADMIN)
    assert response.status_code == 400
    assert response.json()["field"] == "before"
    assert (await client.get("/v1/audit", params={"before": 2**63 - 1}, headers=ADMIN)).is_success


async def test_nul_in_score_metadata_and_odd_paths(client: AsyncTestClient[Litestar]) -> None:
    board = await create_board(client)
    _, headers = await sign_in(client)
    response = await client.post(
        f"/v1/leaderboards/{board}/scores",
        content=b'{"score": 1, "metadata": {"k": "\\u0000"}}',
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "metadata" in response.json()["detail"]
    assert response.json()["field"] == "metadata"
    for path in ("/v1/leaderboards/a%00b", "/v1/leaderboards/a%00b/top"):
        assert (await client.get(path)).status_code == 404


async def test_an_unparseable_avatar_url_is_400(client: AsyncTestClient[Litestar]) -> None:
    player, headers = await sign_in(client)
    response = await client.patch(
        f"/v1/players/{player}", json={"avatar_url": "http://[::1"}, headers=headers
    )
    assert response.status_code == 400
    assert "avatar_url" in response.json()["detail"]
    assert response.json()["field"] == "avatar_url"


async def test_a_player_may_name_themselves_in_upper_case(
    client: AsyncTestClient[Litestar],
) -> None:
    player, headers = await sign_in(client)
    response = await client.patch(
        f"/v1/players/{player.upper()}", json={"display_name": "Upper"}, headers=headers
    )
    assert response.status_code == 200


async def test_an_impossible_last_event_id_is_400(client: AsyncTestClient[Litestar]) -> None:
    board = await create_board(client)
    response = await client.get(
        f"/v1/leaderboards/{board}/events",
        headers={"Last-Event-ID": "18446744073709551615-18446744073709551615"},
    )
    assert response.status_code == 400
    assert "Last-Event-ID" in response.json()["detail"]
    assert response.json()["errors"] == [
        {"field": "Last-Event-ID", "message": "not an event id of this board"}
    ]
