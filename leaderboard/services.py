"""The domain services of one worker, built once when the app's lifespan opens."""

from __future__ import annotations

from dataclasses import dataclass

from leaderboard.auth.sessions import SessionStore
from leaderboard.boards.index import BoardIndex
from leaderboard.boards.scores import Clock, ScoreService, system_clock
from leaderboard.boards.service import BoardService
from leaderboard.db import Database
from leaderboard.events.hub import EventHub
from leaderboard.keys import Keys
from leaderboard.players.cache import ProfileCache
from leaderboard.players.service import ProfileService
from leaderboard.ratelimit import RateLimiter
from leaderboard.redis_client import AnyRedis
from leaderboard.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    sessions: SessionStore
    profiles: ProfileService
    limiter: RateLimiter
    boards: BoardService
    scores: ScoreService
    events: EventHub

    @classmethod
    def build(
        cls,
        db: Database,
        redis: AnyRedis,
        keys: Keys,
        settings: Settings,
        clock: Clock = system_clock,
    ) -> Services:
        sessions = SessionStore(
            redis,
            keys,
            ttl_seconds=settings.session_ttl_seconds,
            max_age_seconds=settings.session_max_age_seconds,
        )
        cache = ProfileCache(
            redis,
            keys,
            ttl_seconds=settings.profile_cache_ttl_seconds,
            negative_ttl_seconds=settings.profile_negative_ttl_seconds,
        )
        profiles = ProfileService(db, cache, sessions)
        limiter = RateLimiter(redis, keys)
        boards = BoardService(db, redis, keys)
        scores = ScoreService(
            boards,
            BoardIndex(redis),
            profiles,
            limiter,
            keys,
            clock,
            stream_length=settings.events_stream_length,
            sharded_pubsub=settings.redis_cluster,
        )
        # Deleting a player takes them off every leaderboard in the same transaction.
        profiles.before_delete.append(scores.remove_player)
        return cls(
            sessions=sessions,
            profiles=profiles,
            limiter=limiter,
            boards=boards,
            scores=scores,
            events=EventHub(settings, keys),
        )

    async def close(self) -> None:
        """Stop background work: event subscriptions, score repairs."""
        await self.events.close()
        await self.scores.close()
