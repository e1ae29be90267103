"""Rank-change events over Redis pub/sub, and the capped stream behind them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.events.models import RankChanged
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from tests.conftest import ADMIN, CLUSTER
from tests.helpers import sign_in

pytestmark = pytest.mark.redis_modes


@pytest.fixture
async def board(client: AsyncTestClient[Litestar]) -> str:
    board_id = f"e-{uuid.uuid4().hex[:12]}"
    response = await client.post(
        "/v1/leaderboards",
        # rank_changed alone (test_overtaken.py has the overtaken events)
        json={
            "id": board_id,
            "rate_limit": {"limit": 5, "window_seconds": 60},
            "overtake_events": 0,
        },
        headers=ADMIN,
    )
    assert response.status_code == 201
    return board_id


class Subscriber:
    """A raw subscription to a board's channel: SUBSCRIBE on a single node, SSUBSCRIBE on a
    cluster (where the score script publishes with SPUBLISH, in the board's slot)."""

    def __init__(self, redis: AnyRedis, *, sharded: bool) -> None:
        self.pubsub: Any = redis.pubsub()  # PubSub or ClusterPubSub
        self.sharded = sharded

    async def subscribe(self, channel: str) -> None:
        if self.sharded:
            await self.pubsub.ssubscribe(channel)
        else:
            await self.pubsub.subscribe(channel)
        confirmation = await self.get(ignore_subscribe_messages=False, timeout=5)
        assert confirmation is not None  # the subscription is live from here
        assert confirmation["type"] == ("ssubscribe" if self.sharded else "subscribe")

    async def get(self, *, ignore_subscribe_messages: bool, timeout: float) -> Any:
        if self.sharded:
            return await self.pubsub.get_sharded_message(
                ignore_subscribe_messages=ignore_subscribe_messages, timeout=timeout
            )
        return await self.pubsub.get_message(
            ignore_subscribe_messages=ignore_subscribe_messages, timeout=timeout
        )


@pytest.fixture
async def subscriber(
    redis: AnyRedis, redis_mode: str, redis_key_prefix: str, board: str
) -> AsyncIterator[Subscriber]:
    subscriber = Subscriber(redis, sharded=redis_mode == CLUSTER)
    await subscriber.subscribe(Keys(redis_key_prefix).events_channel(board))
    yield subscriber
    await subscriber.pubsub.aclose()


async def received(
    subscriber: Subscriber, wait: float = 0.5, most: int = 10_000
) -> list[RankChanged]:
    """Every event that arrives until none has for ``wait`` seconds (at most ``most``)."""
    events: list[RankChanged] = []
    while len(events) < most:
        message = await subscriber.get(ignore_subscribe_messages=True, timeout=wait)
        if message is None:
            return events
        events.append(msgspec.json.decode(message["data"], type=RankChanged))
    pytest.fail(f"events kept coming: {most} and more")


async def post_score(
    client: AsyncTestClient[Litestar], board: str, headers: dict[str, str], score: int
) -> Any:
    return await client.post(
        f"/v1/leaderboards/{board}/scores", json={"score": score}, headers=headers
    )


async def test_one_event_per_change_and_none_otherwise(
    client: AsyncTestClient[Litestar], board: str, subscriber: Subscriber
) -> None:
    alice, alice_headers = await sign_in(client)
    bob, bob_headers = await sign_in(client)
    assert (await post_score(client, board, alice_headers, 100)).status_code == 200
    assert (await post_score(client, board, bob_headers, 50)).status_code == 200
    assert (await post_score(client, board, bob_headers, 150)).status_code == 200
    assert (await post_score(client, board, bob_headers, 120)).json()["changed"] is False
    for _ in range(3):  # over the limit of 5: throttled, nothing published
        await post_score(client, board, bob_headers, 999)
    assert (await post_score(client, board, bob_headers, 999)).status_code == 429

    events = await received(subscriber)
    assert [(e.player_id, e.score, e.previous_score, e.rank, e.previous_rank) for e in events] == [
        (alice, 100, None, 1, None),
        (bob, 50, None, 2, None),
        (bob, 150, 50, 1, 2),
        (bob, 999, 150, 1, 1),
    ]
    assert all(e.leaderboard == board and e.period is None and e.id for e in events)


async def test_events_carry_exact_big_scores(
    client: AsyncTestClient[Litestar], board: str, subscriber: Subscriber
) -> None:
    _, headers = await sign_in(client)
    biggest = 2**53 - 1
    await post_score(client, board, headers, biggest)
    (event,) = await received(subscriber)
    assert event.score == biggest


async def test_the_stream_keeps_the_events_with_a_ttl(
    client: AsyncTestClient[Litestar], board: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    _, headers = await sign_in(client)
    for score in (1, 2, 3):
        await post_score(client, board, headers, score)
    stream = Keys(redis_key_prefix).events_stream(board)
    entries: list[tuple[str, dict[str, str]]] = await redis.xrange(stream)  # type: ignore[assignment]
    scores = [msgspec.json.decode(fields["event"], type=RankChanged).score for _, fields in entries]
    assert scores == [1, 2, 3]
    assert 0 < await redis.pttl(stream) <= 7 * 86_400_000


async def test_concurrent_changes_publish_in_index_order(
    client: AsyncTestClient[Litestar], live: httpx.AsyncClient, board: str, subscriber: Subscriber
) -> None:
    players = [await sign_in(client) for _ in range(8)]
    await asyncio.gather(
        *(
            live.post(f"/v1/leaderboards/{board}/scores", json={"score": i * 10}, headers=headers)
            for i, (_, headers) in enumerate(players)
        )
    )
    events = await received(subscriber)
    assert len(events) == 8
    ids = [e.id for e in events]
    assert ids == sorted(ids, key=lambda i: tuple(int(p) for p in (i or "0-0").split("-")))
    # Each event's rank is the rank at that moment: replaying them gives the final order.
    final = (await client.get(f"/v1/leaderboards/{board}/top?limit=10")).json()["entries"]
    assert [e["score"] for e in final] == sorted((e.score for e in events), reverse=True)
