"""A worker's services: every feature's, built once when the app's lifespan opens."""

from __future__ import annotations

from leaderboard.lib.clock import Clock, system_clock
from leaderboard.lib.db import Database
from leaderboard.lib.features import Feature, Infrastructure, Services
from leaderboard.lib.invalidation import Invalidations
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.replica import ReadReplica
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.lib.settings import Settings
from leaderboard.server.features import FEATURES


def build_services(
    db: Database,
    redis: AnyRedis,
    keys: Keys,
    settings: Settings,
    clock: Clock = system_clock,
    features: tuple[Feature, ...] = FEATURES,
) -> Services:
    """Build every feature's services over the pool and the client, in ``features`` order.

    Not started: :meth:`Services.start` starts their background work.
    """
    infra = Infrastructure(
        db=db,
        redis=redis,
        keys=keys,
        settings=settings,
        clock=clock,
        # One pipeline for the scripts of every feature: concurrent requests' calls of
        # different kinds (session, limiter, index) leave in the same round trip.
        pipeline=ScriptPipeline(redis),
        # Profile misses and rebuilds may read a replica (fenced: never staler than the
        # primary; lib/replica.py); without LEADERBOARD_DATABASE_REPLICA_URL, the primary.
        replica=ReadReplica.from_settings(settings, db),
    )
    services = Services(infra)
    # Copies a worker keeps for a moment (a board's rules) are dropped everywhere by
    # announcements over one subscription per worker (lib/invalidation.py).
    services.add(Invalidations(settings, keys, redis))
    for feature in features:
        feature.build(services)
    return services


async def close_services(services: Services) -> None:
    """Stop every service's work, then the infrastructure's besides the pool and client."""
    await services.close()
    await services.infra.replica.close()
