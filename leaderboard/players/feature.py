"""The players feature: profiles (Postgres, a Redis cache), bans, device sign-in."""

from __future__ import annotations

from leaderboard.audit.repository import AuditLog
from leaderboard.auth.sessions import SessionStore
from leaderboard.lib.db import Connection
from leaderboard.lib.features import Feature, Provided, Services
from leaderboard.players.cache import PlayerCache
from leaderboard.players.controller import PlayersController
from leaderboard.players.device import DeviceSignIn
from leaderboard.players.device_controller import DeviceController
from leaderboard.players.devices import DeviceDirectory
from leaderboard.players.repository import PlayerRepository
from leaderboard.players.service import PlayerService
from leaderboard.ratelimit import RateLimiter, RateLimitPolicy


def build(services: Services) -> None:
    infra, settings = services.infra, services.infra.settings
    cache = PlayerCache(
        infra.redis,
        infra.keys,
        ttl_seconds=settings.profile_cache_ttl_seconds,
        negative_ttl_seconds=settings.profile_negative_ttl_seconds,
        pipeline=infra.pipeline,
    )
    devices = DeviceDirectory(
        infra.pipeline, infra.keys, ttl_seconds=settings.device_cache_ttl_seconds
    )
    # Profile misses may read a replica (fenced: never staler than the primary). The
    # admin's writes are audited in their transaction (the audit feature is built first).
    players = services.add(
        PlayerService(
            infra.db,
            PlayerRepository(infra.db, infra.replica),
            cache,
            devices,
            audit=services.get(AuditLog).record,
        )
    )
    sessions = services.get(SessionStore)

    # A deleted player's sessions end in the deleting transaction (a Redis outage rolls
    # the deletion back).
    async def end_sessions(_: Connection, player_id: str) -> None:
        await sessions.end_all(player_id)

    players.before_delete.append(end_sessions)
    policy = RateLimitPolicy(
        limit=settings.auth_rate_limit, window_seconds=settings.auth_rate_window_seconds
    )
    services.add(
        DeviceSignIn(players, sessions, services.get(RateLimiter), policy, devices, infra.pipeline)
    )


FEATURE = Feature(
    name="players",
    handlers=[PlayersController, DeviceController],
    build=build,
    provides=[Provided("players", PlayerService), Provided("device_sign_in", DeviceSignIn)],
)
