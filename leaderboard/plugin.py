"""The infrastructure plugin: opens the Postgres pool and the Redis client, hands them out by DI.

Modelled on Litestar's ``ChannelsPlugin``: ``on_app_init`` registers the dependencies and
appends the plugin's lifespan, which opens both on start-up and closes both on shutdown.
Handlers declare ``db: DatabaseDep``, ``redis: RedisDep``, ``keys: KeysDep``,
``settings: SettingsDep``, a domain service (``ScoresDep``, …, or ``ServicesDep`` for all
of them) or ``principal`` (the caller, 401 without a valid token) and receive the
worker's single instance; nothing lives in module globals.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request
from litestar.config.app import AppConfig
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation
from litestar.plugins import InitPluginProtocol

from leaderboard.auth.principal import Principal
from leaderboard.auth.sessions import SessionStore
from leaderboard.boards.scores import Clock, ScoreService, system_clock
from leaderboard.boards.service import BoardService
from leaderboard.db import Database
from leaderboard.events.hub import EventHub
from leaderboard.keys import Keys
from leaderboard.players.service import ProfileService
from leaderboard.ratelimit import RateLimiter
from leaderboard.redis_client import AnyRedis, check_memory_policy, create_redis, initialize
from leaderboard.services import Services
from leaderboard.settings import Settings

logger = logging.getLogger(__name__)

# How handlers ask for what this plugin provides (by parameter name, as Litestar 3 wants).
# Litestar cannot validate a union of two classes (Redis | RedisCluster); the plugin is
# the only provider of it, so its validation is skipped.
SettingsDep = NamedDependency[Settings]
KeysDep = NamedDependency[Keys]
DatabaseDep = NamedDependency[Database]
RedisDep = NamedDependency[SkipValidation[AnyRedis]]
SessionsDep = NamedDependency[SessionStore]
ProfilesDep = NamedDependency[ProfileService]
LimiterDep = NamedDependency[RateLimiter]
BoardsDep = NamedDependency[BoardService]
ScoresDep = NamedDependency[ScoreService]
EventsDep = NamedDependency[EventHub]
ServicesDep = NamedDependency[Services]


async def provide_principal(request: Request[Any, Any, Any], services: ServicesDep) -> Principal:
    """Litestar dependency ``principal``: who calls (401 without a valid token).

    It depends on ``services`` alone, so that a handler declaring ``principal`` and
    ``services`` resolves both inline: Litestar resolves dependencies of the same depth
    together in an anyio task group, ~77 µs per request (docs/benchmarks.md), which the
    score submission, the hot path, avoids this way.
    """
    return await services.authenticator.authenticate(request)


class InfrastructurePlugin(InitPluginProtocol):
    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        if settings.database_url is None or settings.redis_url is None:
            raise ValueError(
                "create_app needs database_url and redis_url; "
                "`leaderboard serve` fills them in when it starts the embedded servers"
            )
        self.settings = settings
        self.clock = clock
        self.keys = Keys(settings.redis_key_prefix)
        self._database_url = settings.database_url
        self._redis_url = settings.redis_url
        self._db: Database | None = None
        self._redis: AnyRedis | None = None
        self._services: Services | None = None

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.dependencies.update(
            {
                "settings": Provide(self.provide_settings, sync_to_thread=False),
                "keys": Provide(self.provide_keys, sync_to_thread=False),
                "db": Provide(self.provide_db, sync_to_thread=False),
                "redis": Provide(self.provide_redis, sync_to_thread=False),
                "sessions": Provide(self.provide_sessions, sync_to_thread=False),
                "profiles": Provide(self.provide_profiles, sync_to_thread=False),
                "limiter": Provide(self.provide_limiter, sync_to_thread=False),
                "boards": Provide(self.provide_boards, sync_to_thread=False),
                "scores": Provide(self.provide_scores, sync_to_thread=False),
                "events": Provide(self.provide_events, sync_to_thread=False),
                "services": Provide(self.provide_services, sync_to_thread=False),
                # Resolved only by handlers that declare it: 401 without a valid token.
                "principal": Provide(provide_principal),
            }
        )
        app_config.lifespan.append(self.lifespan)
        return app_config

    @asynccontextmanager
    async def lifespan(self, _: Litestar) -> AsyncIterator[None]:
        db = Database(
            self._database_url,
            min_size=self.settings.db_pool_min_size,
            max_size=self.settings.db_pool_max_size,
            timeout=self.settings.db_timeout,
        )
        await db.open()
        redis = create_redis(self.settings, self._redis_url)
        await initialize(redis)
        await check_memory_policy(redis)
        self._db, self._redis = db, redis
        self._services = Services.build(db, redis, self.keys, self.settings, self.clock)
        try:
            yield
        finally:
            await self._services.close()
            self._db = self._redis = self._services = None
            await redis.aclose()
            await db.close()

    def provide_settings(self) -> Settings:
        return self.settings

    def provide_keys(self) -> Keys:
        return self.keys

    def provide_db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the database is not open: the app lifespan has not started")
        return self._db

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are not built: the app lifespan has not started")
        return self._services

    def provide_redis(self) -> AnyRedis:
        if self._redis is None:
            raise RuntimeError("Redis is not open: the app lifespan has not started")
        return self._redis

    def provide_services(self) -> Services:
        return self.services

    def provide_sessions(self) -> SessionStore:
        return self.services.sessions

    def provide_profiles(self) -> ProfileService:
        return self.services.profiles

    def provide_limiter(self) -> RateLimiter:
        return self.services.limiter

    def provide_boards(self) -> BoardService:
        return self.services.boards

    def provide_scores(self) -> ScoreService:
        return self.services.scores

    def provide_events(self) -> EventHub:
        return self.services.events
