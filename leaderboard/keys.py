"""Every Redis key and channel name the service uses, so the keyspace reads at a glance.

All keys of one leaderboard carry the hash tag ``{<id>}`` so that, on a Redis Cluster,
they live in one slot and one Lua script may touch them together. Keys other than the
leaderboard indexes themselves always get a TTL where they are written.

``prefix`` (``LEADERBOARD_REDIS_KEY_PREFIX``, empty by default) lets several deployments
or test sessions share one Redis; with the default the names below are exactly the
contract's (for example ``leaderboard:{weekly-race}:events``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = ""

    def pattern(self) -> str:
        """A SCAN pattern matching every key of this deployment (used by tests and tools)."""
        return f"{self.prefix}*"

    def rate_limit(self, scope: str, subject: str) -> str:
        """Sliding-window log of one subject under one policy scope (a sorted set with a TTL).

        ``scope`` names the policy (``auth``, ``scores:<board id>``); ``subject`` is who is
        limited (a player id, a client address). The subject is the hash tag, so on a
        cluster each subject's limiter lives in its own slot.
        """
        return f"{self.prefix}ratelimit:{scope}:{{{subject}}}"

    def events_channel(self, leaderboard_id: str) -> str:
        """Pub/sub channel of a board's rank-change events (public contract)."""
        return f"{self.prefix}leaderboard:{{{leaderboard_id}}}:events"
