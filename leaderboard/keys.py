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

    def events_channel(self, leaderboard_id: str) -> str:
        """Pub/sub channel of a board's rank-change events (public contract)."""
        return f"{self.prefix}leaderboard:{{{leaderboard_id}}}:events"
