"""A score committed while the index could not be reached is applied once Redis is back."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from leaderboard.auth.sessions import SessionStore
from leaderboard.boards.index import BoardIndex
from leaderboard.boards.models import BoardCreate, RateLimitConfig
from leaderboard.boards.periods import ALL_TIME
from leaderboard.boards.scores import ScoreService
from leaderboard.boards.service import BoardService
from leaderboard.db import Database
from leaderboard.errors import DependencyUnavailableError
from leaderboard.keys import Keys
from leaderboard.players.cache import ProfileCache
from leaderboard.players.service import ProfileService
from leaderboard.ratelimit import RateLimiter
from leaderboard.redis_client import create_redis
from leaderboard.settings import Settings
from tests.helpers import async_wait_until


async def test_a_committed_score_reaches_the_index_after_an_outage(
    db: Database, redis: Redis, redis_key_prefix: str
) -> None:
    keys = Keys(redis_key_prefix)
    sessions = SessionStore(redis, keys, ttl_seconds=60, max_age_seconds=60)
    profiles = ProfileService(
        db, ProfileCache(redis, keys, ttl_seconds=60, negative_ttl_seconds=5), sessions
    )
    boards = BoardService(db, redis, keys)
    board = await boards.create(
        BoardCreate(id=f"r-{uuid.uuid4().hex[:10]}", rate_limit=RateLimitConfig(limit=100))
    )
    player, _, _ = await profiles.sign_in_device(f"device-{uuid.uuid4()}", None)
    other, _, _ = await profiles.sign_in_device(f"device-{uuid.uuid4()}", None)
    live = ScoreService(boards, BoardIndex(redis), profiles, RateLimiter(redis, keys), keys)
    await live.submit(board.id, other.player_id, 7, None)  # the index exists and is ready
    members = keys.index(board.id, "all").members
    dead = create_redis(Settings(redis_timeout=0.3), "redis://127.0.0.1:1/0")
    # The limiter reaches Redis, the index does not: Redis failed between the two.
    service = ScoreService(boards, BoardIndex(dead), profiles, RateLimiter(redis, keys), keys)
    try:
        with pytest.raises(DependencyUnavailableError, match="the score was recorded"):
            await service.submit(board.id, player.player_id, 42, None)
        stored = await boards.repository.stored(board.id, ALL_TIME, player.player_id)
        assert stored is not None
        assert stored.score == 42, "committed before the outage was noticed"
        assert await redis.hget(members, player.player_id) is None

        service._index = BoardIndex(redis)

        async def indexed() -> bool:
            return await redis.hget(members, player.player_id) is not None

        await async_wait_until(indexed, 10, "the background repair to apply the score")
        page = await live.top(board.id, None, 0, 10)
        assert [(e.player_id, e.score) for e in page.entries] == [
            (player.player_id, 42),
            (other.player_id, 7),
        ]
    finally:
        await service.close()
        await dead.aclose()
