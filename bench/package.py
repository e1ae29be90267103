"""Everything the benchmark takes from the `leaderboard` package, in one place.

When one of these names moves, re-point it here and nowhere else. The rest of bench/
imports them from this module only.
"""

from __future__ import annotations

from leaderboard.boards.index_values import member_for, member_of, to_redis_score
from leaderboard.boards.rank_index import READ
from leaderboard.lib.keys import IndexKeys, Keys

__all__ = [
    "INDEX_READ_SOURCE",
    "IndexKeys",
    "Keys",
    "member_for",
    "member_of",
    "to_redis_score",
]

# index_read.lua exactly as the service registers it: the helpers every index script shares
# (index_common.lua: member_of, TOMBSTONE) in front of the script itself.
INDEX_READ_SOURCE: str = READ.source
