"""The index's reads: a page, the entries around a player, friends, the histogram.

One script (index_read.lua) answers each in one round trip, with the display names of
the page where the profiles are in reach and the ranks numbered as the read asks
(docs/ranking.md, "Shared ranks"). The façade (index.py) is the way in.
"""

from __future__ import annotations

from typing import Any

from leaderboard.boards.models import Order
from leaderboard.lib.keys import IndexKeys
from leaderboard.lib.scripts import LuaScript, ScriptArg, ScriptPipeline
from leaderboard.ranking.values import (
    PLAIN,
    TOMBSTONE,
    Histogram,
    IndexNotReadyError,
    ReadView,
    Slice,
    from_redis_score,
    player_of,
)


def index_script(name: str, *more_prelude: str) -> LuaScript:
    """An index script after what they all share.

    First TOMBSTONE (values.py is its one source), then the events' emit,
    index_common.lua (member_of, journal, the distinct scores) and index_digest.lua
    (digest_change).
    """
    return LuaScript.load(
        __package__,
        name,
        prelude=[
            "leaderboard.events:emit.lua",
            "leaderboard.lib:index_torn.lua",
            "index_common.lua",
            "index_digest.lua",
            *more_prelude,
        ],
        constants={"TOMBSTONE": TOMBSTONE},
    )


# Reads fetch the cached display names of a page with it (the players' hash format).
READ = index_script("index_read.lua", "leaderboard.players:profile_name.lua")


class IndexReads:
    """The reads of an index, each a method that owns the read script's KEYS and ARGV."""

    def __init__(self, pipeline: ScriptPipeline) -> None:
        self._read = pipeline.bind(READ)

    async def top(
        self,
        keys: IndexKeys,
        order: Order,
        offset: int,
        limit: int,
        view: ReadView = PLAIN,
    ) -> Slice:
        reply = await self._ask(keys, view, "top", offset, offset + limit - 1)
        return self._slice(reply, order)

    async def around(
        self,
        keys: IndexKeys,
        order: Order,
        player_id: str,
        radius: int,
        view: ReadView = PLAIN,
    ) -> Slice:
        return self._slice(await self._ask(keys, view, "around", player_id, radius), order)

    async def entry(
        self,
        keys: IndexKeys,
        order: Order,
        player_id: str,
        view: ReadView = PLAIN,
    ) -> Slice:
        """The player's entry and the one ranked just above it (none at rank 1).

        In a style other than ordinal, also the nearest strictly better score (``better``).
        """
        return self._slice(await self._ask(keys, view, "entry", player_id), order)

    async def players(
        self,
        keys: IndexKeys,
        order: Order,
        player_ids: list[str],
        view: ReadView = PLAIN,
    ) -> Slice:
        """Those of ``player_ids`` with an entry, best first, with their 1-based ranks."""
        reply = await self._ask(keys, view, "players", *player_ids)
        if int(reply[0]) == -1:
            raise IndexNotReadyError()
        flat = reply[3]
        entries, positions = [], []
        for i in range(0, len(flat), 3):
            entries.append((player_of(flat[i]), from_redis_score(flat[i + 1], order)))
            positions.append(int(flat[i + 2]) + 1)
        return Slice(
            total=int(reply[1]),
            first_rank=1,
            entries=entries,
            ranks=positions,
            names=reply[5] or None,
            styled=_styled(reply),
        )

    async def _ask(self, keys: IndexKeys, view: ReadView, read: str, *args: ScriptArg) -> Any:
        """One read of index_read.lua: ``read`` with its arguments, names inline if asked."""
        return await self._read(
            [keys.scores, keys.members, keys.ready, keys.lock, keys.distinct],
            [read, *view.names, view.ranks, *args],
        )

    async def histogram(self, keys: IndexKeys, order: Order, buckets: int) -> Histogram:
        """Entries per equal-width score range, from the lowest stored score up."""
        reply = await self._ask(keys, PLAIN, "histogram", buckets, 1 if order == "desc" else 0)
        if int(reply[0]) == -1:
            raise IndexNotReadyError()
        total, flat = int(reply[1]), reply[3]
        if total == 0:
            return Histogram(total=0, lowest=0, width=1, counts=[])
        low, high, width = int(flat[0]), int(flat[1]), int(flat[2])
        # On desc boards Redis holds -score: its highest is the lowest score, and the
        # buckets were laid out from there.
        lowest, highest = (low, high) if order == "asc" else (-high, -low)
        counts = [int(c) for c in flat[3:]]
        return Histogram(total=total, lowest=lowest, width=width, counts=counts, highest=highest)

    @staticmethod
    def _slice(reply: list[Any], order: Order) -> Slice:
        if int(reply[0]) == -1:
            raise IndexNotReadyError()
        _, total, first, flat, player_rank, names = reply[:6]
        better = reply[7] if len(reply) > 7 else None
        entries = [
            (player_of(flat[i]), from_redis_score(flat[i + 1], order))
            for i in range(0, len(flat), 2)
        ]
        return Slice(
            total=int(total),
            first_rank=int(first) + 1,
            entries=entries,
            player_rank=None if player_rank is None else int(player_rank) + 1,
            names=names or None,
            styled=_styled(reply),
            better=None if better is None else from_redis_score(better, order),
        )


def _styled(reply: list[Any]) -> list[int] | None:
    """A read's styled ranks (its 7th value); None when it numbered none (ordinal)."""
    if len(reply) < 7 or not reply[6]:
        return None
    return [int(rank) for rank in reply[6]]
