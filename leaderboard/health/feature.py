"""The health feature: /health, /ready (with the eviction warning) and /metrics."""

from __future__ import annotations

from leaderboard.health.controller import HealthController, metrics
from leaderboard.health.eviction import EvictionWatch
from leaderboard.lib.features import Feature, Provided, Services


def build(services: Services) -> None:
    services.add(EvictionWatch(services.infra.redis))


FEATURE = Feature(
    name="health",
    handlers=[HealthController, metrics],
    build=build,
    provides=[Provided("eviction", EvictionWatch)],
)
