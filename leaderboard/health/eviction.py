"""Whether Redis may evict leaderboard indexes, told by /ready and the log while it lasts."""

from __future__ import annotations

import logging
import time

from leaderboard.lib.redis_client import AnyRedis, check_memory_policy

logger = logging.getLogger(__name__)


class EvictionWatch:
    """Reads Redis' maxmemory-policy at most once a minute; warns every ten while it can evict.

    Indexes carry no TTL: a ``volatile-*`` policy or ``noeviction`` never evicts them, an
    ``allkeys-*`` policy may. The index guard repairs what is evicted (counted in
    ``leaderboard_index_repairs_total{cause="missing"}``), but reads pay for the rebuild.
    """

    def __init__(
        self, redis: AnyRedis, *, recheck_seconds: float = 60.0, log_every_seconds: float = 600.0
    ) -> None:
        self._redis = redis
        self._recheck = recheck_seconds
        self._log_every = log_every_seconds
        self._policy: str | None = None
        self._checked_at = float("-inf")
        self._logged_at = float("-inf")

    async def warning(self) -> str | None:
        """A sentence for /ready when indexes may be evicted; None otherwise."""
        now = time.monotonic()
        if now - self._checked_at >= self._recheck:
            self._policy = await check_memory_policy(self._redis, log=False)
            self._checked_at = now
        if not (self._policy or "").startswith("allkeys-"):
            return None
        message = (
            f"Redis maxmemory-policy is {self._policy}: it may evict leaderboard indexes "
            "(repaired from Postgres, at a cost); use noeviction or a volatile-* policy"
        )
        if now - self._logged_at >= self._log_every:
            logger.warning("%s (docs/operations.md)", message)
            self._logged_at = now
        return message
