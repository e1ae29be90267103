"""The domain services of one worker, built once when the app's lifespan opens."""

from __future__ import annotations

from dataclasses import dataclass

from leaderboard.auth.principal import Authenticator
from leaderboard.auth.sessions import SessionStore
from leaderboard.boards.index import BoardIndex
from leaderboard.boards.page_cache import TopPageCache
from leaderboard.boards.scores import Clock, ScoreService, system_clock
from leaderboard.boards.service import BoardService
from leaderboard.db import Database
from leaderboard.events.hub import EventHub
from leaderboard.keys import Keys
from leaderboard.players.cache import ProfileCache
from leaderboard.players.service import ProfileService
from leaderboard.ratelimit import RateLimiter
from leaderboard.redis_client import AnyRedis
from leaderboard.redis_pipeline import ScriptPipeline
from leaderboard.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    sessions: SessionStore
    authenticator: Authenticator
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
        # One pipeline for the scripts of every service: concurrent requests' calls of
        # different kinds (session, limiter, index) leave in the same round trip.
        pipeline = ScriptPipeline(redis)
        sessions = SessionStore(
            redis,
            keys,
            ttl_seconds=settings.session_ttl_seconds,
            max_age_seconds=settings.session_max_age_seconds,
            pipeline=pipeline,
        )
        cache = ProfileCache(
            redis,
            keys,
            ttl_seconds=settings.profile_cache_ttl_seconds,
            negative_ttl_seconds=settings.profile_negative_ttl_seconds,
            pipeline=pipeline,
        )
        profiles = ProfileService(db, cache, sessions)
        limiter = RateLimiter(redis, keys, pipeline=pipeline)
        top_pages = TopPageCache(settings.top_page_cache_ms / 1000)
        boards = BoardService(db, redis, keys, top_pages)
        scores = ScoreService(
            boards,
            BoardIndex(redis, pipeline=pipeline),
            profiles,
            limiter,
            keys,
            clock,
            stream_length=settings.events_stream_length,
            sharded_pubsub=settings.redis_cluster,
            top_pages=top_pages,
        )
        # Deleting a player takes them off every leaderboard in the same transaction.
        profiles.before_delete.append(scores.remove_player)
        # Top pages show display names: a renamed or deleted player drops them all.
        profiles.after_change.append(lambda _player_id: top_pages.clear())
        return cls(
            sessions=sessions,
            authenticator=Authenticator(sessions, settings.admin_token),
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
