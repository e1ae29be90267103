"""lib/invalidation.py: copies dropped in every worker, confirmed; all of them after a gap."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from leaderboard.lib.invalidation import Invalidations
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis, create_redis
from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedValkey
from tests.conftest import CLUSTER
from tests.helpers import async_wait_until


class Copies:
    """What one worker's cache was told: keys dropped, and how often everything was."""

    def __init__(self) -> None:
        self.dropped: list[str] = []
        self.resets = 0

    def drop(self, key: str) -> None:
        self.dropped.append(key)

    def reset(self) -> None:
        self.resets += 1


@asynccontextmanager
async def worker(
    settings: Settings, keys: Keys, redis: AnyRedis
) -> AsyncIterator[tuple[Invalidations, Copies]]:
    copies = Copies()
    invalidations = Invalidations(settings, keys, redis)
    invalidations.register("board", copies.drop, copies.reset)
    invalidations.start()
    try:

        async def subscribed() -> bool:
            return invalidations.connected.is_set()

        await async_wait_until(subscribed, 10, "the subscription")
        yield invalidations, copies
    finally:
        await invalidations.close()


@pytest.mark.redis_modes
async def test_every_worker_drops_its_copy_and_confirms(
    redis_url: str, redis_mode: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    settings = Settings(redis_url=redis_url, redis_cluster=redis_mode == CLUSTER)
    # A channel of this test's own: no other app of the session answers on it.
    keys = Keys(f"{redis_key_prefix}inv-{uuid.uuid4().hex[:8]}:")
    async with (
        worker(settings, keys, redis) as (first, first_copies),
        worker(settings, keys, redis) as (_, second_copies),
    ):
        reached, confirmed = await first.announce("board", "weekly")
        assert (reached, confirmed) == (2, 2)
        # The announcer dropped its copy itself, then again as one of the receivers.
        assert first_copies.dropped == ["weekly", "weekly"]
        assert second_copies.dropped == ["weekly"]
        assert (first_copies.resets, second_copies.resets) == (1, 1)


async def test_a_worker_that_lost_its_subscription_drops_every_copy(
    own_valkey: EmbeddedValkey, redis_key_prefix: str
) -> None:
    """Announcements made while it was cut off never reach it: everything goes instead."""
    settings = Settings(redis_url=own_valkey.url, redis_timeout=0.5)
    redis = create_redis(settings, own_valkey.url)
    keys = Keys(redis_key_prefix)
    try:
        async with worker(settings, keys, redis) as (invalidations, copies):
            assert copies.resets == 1
            own_valkey.stop()

            async def cut_off() -> bool:
                return not invalidations.connected.is_set()

            await async_wait_until(cut_off, 10, "the subscription to break")
            own_valkey.start(same_port=True)

            async def back() -> bool:
                return invalidations.connected.is_set()

            await async_wait_until(back, 15, "the subscription to come back")
            assert copies.resets == 2
    finally:
        await redis.aclose()
