"""The infrastructure plugin: opens the Postgres pool and the Redis client, hands out services.

Modelled on Litestar's ``ChannelsPlugin``: ``on_app_init`` registers the dependencies and
appends the plugin's lifespan, which opens both on start-up, builds the worker's services
(services.py) and closes everything on shutdown. Handlers declare what they need by
parameter name, with the aliases each feature keeps in its ``deps.py`` (``boards: BoardsDep``,
``scores: ScoresDep`` …; infrastructure in ``leaderboard/lib/deps.py``); the features say
which service answers each name (``Feature.provides``), and handlers receive the worker's
single instance; nothing lives in module globals. Only app.py imports this module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.plugins import InitPluginProtocol

from leaderboard.auth.guards import AUTHENTICATOR
from leaderboard.auth.principal import Authenticator
from leaderboard.lib.clock import Clock, system_clock
from leaderboard.lib.db import Database
from leaderboard.lib.features import Feature, Services
from leaderboard.lib.keys import Keys
from leaderboard.lib.metrics import FLUSH_SECONDS, flush_buffer, forget_this_process
from leaderboard.lib.redis_client import (
    AnyRedis,
    check_memory_policy,
    close_redis,
    create_redis,
    initialize,
)
from leaderboard.lib.settings import Settings
from leaderboard.lib.tasks import Periodic
from leaderboard.server.features import FEATURES
from leaderboard.server.services import build_services, close_services


class InfrastructurePlugin(InitPluginProtocol):
    def __init__(
        self,
        settings: Settings,
        clock: Clock = system_clock,
        features: tuple[Feature, ...] = FEATURES,
    ) -> None:
        if settings.database_url is None or settings.redis_url is None:
            raise ValueError(
                "create_app needs database_url and redis_url; "
                "`leaderboard serve` fills them in when it starts the embedded servers"
            )
        self.settings = settings
        self.clock = clock
        self.features = features
        self.keys = Keys(settings.redis_key_prefix)
        self._database_url = settings.database_url
        self._redis_url = settings.redis_url
        self._db: Database | None = None
        self._redis: AnyRedis | None = None
        self._services: Services | None = None

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        providers: dict[str, Callable[[], Any]] = {
            "settings": lambda: self.settings,
            "keys": lambda: self.keys,
            "db": self.provide_db,
            "redis": self.provide_redis,
        }
        for feature in self.features:
            for provided in feature.provides:
                if provided.name in providers:
                    raise ValueError(f"two providers of {provided.name!r} ({feature.name})")
                providers[provided.name] = self._provider(provided.kind)
        app_config.dependencies.update(
            {name: Provide(provider, sync_to_thread=False) for name, provider in providers.items()}
        )
        app_config.lifespan.append(self.lifespan)
        return app_config

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        db = Database.from_settings(self.settings, self._database_url)
        await db.open()
        redis = create_redis(self.settings, self._redis_url)
        await initialize(redis)
        await check_memory_policy(redis)
        self._db, self._redis = db, redis
        self._services = build_services(
            db, redis, self.keys, self.settings, self.clock, self.features
        )
        self._services.start()
        # The guards (auth/guards.py) run before dependency injection: they find the
        # worker's authenticator in the app's state.
        app.state[AUTHENTICATOR] = self._services.get(Authenticator)
        metrics_flush = Periodic("metrics flush", FLUSH_SECONDS, flush_buffer)
        metrics_flush.start()
        try:
            yield
        finally:
            await metrics_flush.close()
            await close_services(self._services)
            self._db = self._redis = self._services = None
            await close_redis(redis)
            await db.close()
            forget_this_process(self.settings.metrics_dir)

    def _provider(self, kind: type[Any]) -> Callable[[], Any]:
        return lambda: self.services.get(kind)

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are not built: the app lifespan has not started")
        return self._services

    def provide_db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the database is not open: the app lifespan has not started")
        return self._db

    def provide_redis(self) -> AnyRedis:
        if self._redis is None:
            raise RuntimeError("Redis is not open: the app lifespan has not started")
        return self._redis
