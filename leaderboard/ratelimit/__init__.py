"""Rate limiting: a sliding-window log per subject in Redis (docs/rate-limiting.md)."""

from leaderboard.ratelimit.limiter import (
    RateLimitDecision,
    RateLimiter,
    RateLimitPolicy,
    admitted,
    decision_of,
    slot_args,
)

__all__ = [
    "RateLimitDecision",
    "RateLimitPolicy",
    "RateLimiter",
    "admitted",
    "decision_of",
    "slot_args",
]
