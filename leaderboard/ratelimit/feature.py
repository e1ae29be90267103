"""The rate limiter, shared by sign-ins and submissions (no endpoints of its own)."""

from __future__ import annotations

from leaderboard.lib.features import Feature, Services
from leaderboard.ratelimit.limiter import RateLimiter


def build(services: Services) -> None:
    services.add(RateLimiter(services.infra.pipeline, services.infra.keys))


FEATURE = Feature(name="ratelimit", build=build)
