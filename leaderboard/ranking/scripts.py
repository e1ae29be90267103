"""The index scripts, one typed method each (the façade in index.py is the way in).

Ranking rule: rank 1 is the best; equal scores are ordered by who reached the score
first. The sorted set's score is the stored score, negated on ``desc`` boards, so the
best entry always has the lowest Redis score and ``ZRANK`` is the rank - 1 on every
board. Equal Redis scores are ordered by member bytes, and a member starts with the
16-hex-digit ``reached_seq`` of the change that set the score (a Postgres sequence), so
earlier changes sort first. Integer scores with |score| ≤ 2^53 - 1 are exact doubles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from leaderboard.boards.models import Order, RankStyle
from leaderboard.lib.errors import NotFoundError
from leaderboard.lib.keys import IndexKeys
from leaderboard.lib.scripts import LuaScript, ScriptArg, ScriptPipeline
from leaderboard.ranking.reads import IndexReads, index_script
from leaderboard.ranking.values import (
    NO_EVENTS,
    STREAM_TTL_MS,
    CheckState,
    EventTarget,
    HeldEntry,
    IndexChange,
    IndexNotReadyError,
    from_redis_score,
    member_for,
    player_of,
    to_redis_score,
)

APPLY = index_script("index_apply.lua")
REMOVE = index_script("index_remove.lua")
SWAP = index_script("index_swap.lua")
CHECK = LuaScript.load(__package__, "index_check.lua")
ENTRIES = index_script("index_entries.lua")
REPAIR = index_script("index_repair.lua")
NOTES = LuaScript.load(__package__, "index_notes.lua")
FILL = index_script("index_fill.lua")


class IndexScripts(IndexReads):
    """The scripts that touch an index, each behind a method that owns its KEYS and ARGV.

    One instance per worker, shared by every board; every call leaves through the worker's
    script pipeline.
    """

    def __init__(self, pipeline: ScriptPipeline) -> None:
        super().__init__(pipeline)
        self._pipeline = pipeline
        self._apply = pipeline.bind(APPLY)
        self._remove = pipeline.bind(REMOVE)
        self._swap = pipeline.bind(SWAP)
        self._check = pipeline.bind(CHECK)
        self._entries = pipeline.bind(ENTRIES)
        self._repair = pipeline.bind(REPAIR)
        self._notes = pipeline.bind(NOTES)
        self._fill = pipeline.bind(FILL)

    async def together(self, calls: Sequence[Awaitable[Any]]) -> list[Any]:
        """Run ``calls``, each starting with one script call: those leave in one pipeline."""
        return await self._pipeline.batcher.together(calls)

    async def apply(
        self,
        keys: IndexKeys,
        *,
        order: Order,
        player_id: str,
        score: int,
        reached_seq: int,
        ttl_ms: int,
        events: EventTarget | None = None,
        after_rebuild: bool = False,
        ranks: RankStyle = "ordinal",
        segment: IndexKeys | None = None,
    ) -> IndexChange:
        """Apply a committed score; publishes one rank_changed event when it changes.

        Without ``events`` nothing is published (tools and tests that drive the index).
        ``ranks``: the board's style, which the events and ``board_rank`` follow.
        ``segment``: the player's country index of the period, changed alike if built.
        """
        more = [] if segment is None else _segment_keys(segment)
        events = events or NO_EVENTS
        reply = await self._apply(
            [
                keys.scores,
                keys.members,
                keys.ready,
                keys.lock,
                keys.journal,
                events.stream or keys.journal,  # a key of the same slot; unused then
                keys.distinct,
                *more,
                keys.digest,  # the last (index_apply.lua: KEYS[#KEYS])
            ],
            [
                player_id,
                to_redis_score(score, order),
                member_for(reached_seq, player_id),
                ttl_ms,
                events.channel,
                events.head,
                -1 if order == "desc" else 1,
                events.stream_length,
                STREAM_TTL_MS,
                events.publish_command,
                1 if after_rebuild else 0,
                events.overtake,
                events.overtaken_head,
                events.overtaken_middle,
                ranks,
            ],
        )
        status = int(reply[0])
        if status == -1:
            raise IndexNotReadyError(keys.scores)
        if status == -2:
            raise NotFoundError(f"no player with id {player_id!r} (deleted)")
        _, previous_rank, previous_score, rank, current_score, total = reply[:6]
        board_previous_rank, board_rank = reply[6], reply[7]
        return IndexChange(
            written=status == 1,
            published=status in (1, 2) and events is not NO_EVENTS,
            previous_rank=None if previous_rank is None else int(previous_rank) + 1,
            previous_score=None
            if previous_score is None
            else from_redis_score(previous_score, order),
            rank=int(rank) + 1,
            score=from_redis_score(current_score, order),
            total=int(total),
            board_rank=int(board_rank),
            board_previous_rank=None if board_previous_rank is None else int(board_previous_rank),
        )

    async def remove(
        self,
        keys: IndexKeys,
        player_id: str,
        *,
        forever: bool = True,
        events: EventTarget | None = None,
    ) -> bool:
        """Take a player's entry off the index; True when they had one.

        ``forever`` (a deleted player): a late write of an older score is refused too.
        ``events``: publish its ``head`` (a whole event but its closing brace) when an
        entry was removed.
        """
        events = events or NO_EVENTS
        removed = await self._remove(
            [
                keys.scores,
                keys.members,
                keys.lock,
                keys.journal,
                events.stream or keys.journal,  # a key of the same slot; unused then
                keys.distinct,
                keys.digest,
            ],
            [
                player_id,
                1 if forever else 0,
                events.channel,
                events.head,
                events.stream_length,
                STREAM_TTL_MS,
                events.publish_command,
            ],
        )
        return bool(int(removed))

    async def check(
        self, keys: IndexKeys, suspects: str, interval_ms: int, now_ms: int
    ) -> CheckState | None:
        """Take this round's check of the index (None: another worker has it) and read it."""
        reply = await self._check(
            [
                keys.check,
                keys.ready,
                keys.scores,
                keys.members,
                keys.cursors,
                suspects,
                keys.digest,
            ],
            [interval_ms, now_ms],
        )
        if int(reply[0]) == 0:
            return None
        _, marker, entries, members, player_cursor, rank_cursor, held, digest = reply
        return CheckState(
            marker=marker,
            entries=int(entries),
            members=int(members),
            player_cursor=player_cursor or "",
            rank_cursor=int(rank_cursor or 0),
            suspects=list(held),
            digest={int(digest[i]): digest[i + 1] for i in range(0, len(digest), 2)},
        )

    async def entries_of(self, keys: IndexKeys, player_ids: list[str]) -> list[HeldEntry]:
        """What the index holds for each of ``player_ids``, in order."""
        if not player_ids:
            return []
        reply = await self._entries([keys.scores, keys.members], ["players", *player_ids])
        return [
            HeldEntry(value=reply[i] or None, redis_score=reply[i + 1] or None)
            for i in range(0, len(reply), 2)
        ]

    async def window(self, keys: IndexKeys, first: int, last: int) -> list[tuple[str, str]]:
        """(player id, Redis score) of the entries at positions first…last (0-based)."""
        flat = await self._entries([keys.scores, keys.members], ["ranks", first, last])
        return [(player_of(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]

    async def repair(
        self,
        keys: IndexKeys,
        *,
        order: Order,
        player_id: str,
        seen: HeldEntry,
        score: int,
        reached_seq: int,
    ) -> bool:
        """Set a player's entry to Postgres' (score, sequence) if it is still ``seen``."""
        repaired = await self._repair(
            [keys.scores, keys.members, keys.lock, keys.journal, keys.distinct, keys.digest],
            [
                player_id,
                seen.value or "",
                seen.redis_score or "",
                to_redis_score(score, order),
                member_for(reached_seq, player_id),
            ],
        )
        return int(repaired) == 1

    async def save_cursors(self, keys: IndexKeys, player_cursor: str, rank_cursor: int) -> None:
        """Where the rolling check goes on next round (any worker's)."""
        await self._notes([keys.cursors], ["cursors", player_cursor, rank_cursor])

    async def set_digest(self, keys: IndexKeys, bucket: int, seen: str, digest: str) -> bool:
        """Set a bucket's digest if it still is ``seen`` (a digest the index holds)."""
        return int(await self._notes([keys.digest], ["digest", bucket, seen, digest])) == 1

    async def add_suspect(
        self, suspects: str, period_key: str, player_id: str, until_ms: int
    ) -> None:
        """Have the check compare this player's entry with Postgres until ``until_ms``."""
        await self._notes([suspects], ["suspect", f"{period_key}|{player_id}", until_ms])

    async def swap(
        self,
        keys: IndexKeys,
        token: str,
        temporary: tuple[str, str],
        ttl_ms: int,
        run_id: str,
    ) -> int:
        """Finish a rebuild: replay its journal into ``temporary`` and swap it in.

        ``temporary``: the new scores and members; the new distinct scores are at
        ``keys.temporary_distinct(token)``. ``run_id`` (the server's) becomes the ready
        marker's value. Returns the new index's entry count, or -1 when the rebuild lost
        its lock.
        """
        temp_scores, temp_members = temporary
        temp_distinct = keys.temporary_distinct(token)
        entries = await self._swap(
            [
                temp_scores,
                temp_members,
                keys.scores,
                keys.members,
                keys.ready,
                keys.lock,
                keys.journal,
                temp_distinct,
                keys.distinct,
                keys.temporary_digest(token),
                keys.digest,
            ],
            [token, ttl_ms, run_id],
        )
        return int(entries)

    async def fill(
        self,
        keys: IndexKeys,
        token: str,
        order: Order,
        entries: list[tuple[str, int, int]],
        ttl_ms: int,
    ) -> int:
        """Add (player id, score, reached_seq) entries to a rebuild's temporary digest."""
        args: list[ScriptArg] = [ttl_ms]
        for player, score, seq in entries:
            args += (player, to_redis_score(score, order), member_for(seq, player))
        return int(await self._fill([keys.temporary_digest(token)], args))


def _segment_keys(segment: IndexKeys) -> list[str]:
    """A country index's keys, as index_apply.lua takes them (KEYS[8…13])."""
    return [
        segment.scores,
        segment.members,
        segment.ready,
        segment.lock,
        segment.journal,
        segment.distinct,
    ]
