"""Everything the benchmark takes from the `leaderboard` package, in one place.

When one of these names moves, re-point it here and nowhere else. The rest of bench/
imports them from this module only.
"""

from __future__ import annotations

from redis.asyncio import Redis

from leaderboard.lib.keys import IndexKeys, Keys
from leaderboard.lib.redis_client import RESP_PROTOCOL
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.ranking.digests import LANE1_PRIME, LANE2_PRIME, Digest
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ranking.values import member_for, member_of, to_redis_score

__all__ = [
    "LANE1_PRIME",
    "LANE2_PRIME",
    "Digest",
    "IndexKeys",
    "IndexScripts",
    "Keys",
    "index_reader",
    "member_for",
    "member_of",
    "to_redis_score",
]


def index_reader(redis_url: str) -> tuple[IndexScripts, Redis]:
    """The service's own index reads, over a client like a worker's (RESP2, decoded).

    The reads go through ``IndexScripts`` and the worker's script pipeline, so they send
    index_read.lua with the service's own ARGV layout, whatever it is this week. Close the
    client (``aclose``) when done.
    """
    client = Redis.from_url(redis_url, decode_responses=True, protocol=RESP_PROTOCOL)
    return IndexScripts(ScriptPipeline(client)), client
