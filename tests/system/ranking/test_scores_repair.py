"""A score committed while the index could not be reached is applied once Redis is back."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from leaderboard.audit.repository import AuditLog
from leaderboard.auth.sessions import SessionStore
from leaderboard.boards.models import BoardCreate, RateLimitConfig
from leaderboard.boards.periods import ALL_TIME
from leaderboard.boards.repository import BoardRepository
from leaderboard.boards.service import BoardService
from leaderboard.lib.clock import system_clock
from leaderboard.lib.db import Database
from leaderboard.lib.errors import DependencyUnavailableError
from leaderboard.lib.invalidation import Invalidations
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import create_redis
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedValkey
from leaderboard.ranking.index import EventSettings, RankIndex
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.page_cache import TopPageCache
from leaderboard.ranking.rebuild import Rebuilder
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.results import PeriodResults
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ratelimit import RateLimiter
from leaderboard.scores.admission import Admission
from leaderboard.scores.idempotency import IdempotencyStore
from leaderboard.scores.repository import ScoreRepository
from leaderboard.scores.review import ReviewRules
from leaderboard.scores.service import ScoreService
from leaderboard.scores.writer import ScoreWriter
from tests.helpers import async_wait_until
from tests.scores_helpers import insert_players

pytestmark = pytest.mark.slow


async def test_a_committed_score_reaches_the_index_after_an_outage(
    db: Database,
    database_url: str,
    redis: Redis,
    own_valkey: EmbeddedValkey,
    redis_key_prefix: str,
    redis_url: str,
) -> None:
    """The limiter's Redis answers, the index's Redis (a server of the test's own) is
    stopped between the two: the score commits, the client hears 503 "recorded", and the
    worker applies it by itself once that Redis is back."""
    keys = Keys(f"{redis_key_prefix}repair:{uuid.uuid4().hex[:8]}:")
    index_redis = create_redis(Settings(redis_timeout=0.3), own_valkey.url)
    invalidations = Invalidations(Settings(redis_url=redis_url), keys, redis)
    boards = BoardService(
        db, BoardRepository(db), redis, keys, AuditLog(db), system_clock, invalidations
    )
    locator = IndexLocator(keys, system_clock)
    scripts = IndexScripts(ScriptPipeline(index_redis))
    records = ScoreRecords(db)
    index = RankIndex(
        redis=index_redis,
        scripts=scripts,
        records=records,
        rebuilder=Rebuilder(index_redis, scripts, BoardRepository(db), records, locator),
        locator=locator,
        keys=keys,
        top_pages=TopPageCache(0),
        events=EventSettings(),
        clock=system_clock,
        results=PeriodResults(db, system_clock),
    )
    idem = IdempotencyStore(db, ScriptPipeline(redis), keys)
    service = ScoreService(
        boards=boards,
        writer=ScoreWriter(db),
        scores=ScoreRepository(db),
        index=index,
        admission=Admission(
            ScriptPipeline(redis),
            RateLimiter(ScriptPipeline(redis), keys),
            idem,
            SessionStore(ScriptPipeline(redis), keys, ttl_seconds=60, max_age_seconds=600),
        ),
        idempotency=idem,
        review=ReviewRules(index),
        clock=system_clock,
    )
    board = await boards.create(
        BoardCreate(id=f"r-{uuid.uuid4().hex[:10]}", rate_limit=RateLimitConfig(limit=100)),
        actor="admin",
    )
    (player, _), (other, _) = await insert_players(database_url, 2)
    members = keys.index(board.id, "all").members
    try:
        await service.submit_score(board.id, other, 7, None)  # the index exists and is ready
        own_valkey.stop()
        with pytest.raises(DependencyUnavailableError, match="the score was recorded"):
            await service.submit_score(board.id, player, 42, None)
        stored = await records.stored(board, ALL_TIME, player)
        assert stored is not None
        assert stored.score == 42, "committed before the outage was noticed"
        assert index.repairs_pending == 1
        own_valkey.start()

        async def indexed() -> bool:
            return await index_redis.hget(members, player) is not None

        await async_wait_until(indexed, 20, "the background repair to apply the score")
        page = await scripts.top(keys.index(board.id, "all"), board.order, 0, 10)
        assert page.entries == [(player, 42), (other, 7)]
    finally:
        await index.close()
        await index_redis.aclose()
