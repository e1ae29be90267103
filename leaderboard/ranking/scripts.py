"""The index scripts, one typed method each (the façade in index.py is the way in).

Ranking rule: rank 1 is the best; equal scores are ordered by who reached the score
first. The sorted set's score is the stored score, negated on ``desc`` boards, so the
best entry always has the lowest Redis score and ``ZRANK`` is the rank - 1 on every
board. Equal Redis scores are ordered by member bytes, and a member starts with the
16-hex-digit ``reached_seq`` of the change that set the score (a Postgres sequence), so
earlier changes sort first. Integer scores with |score| ≤ 2^53 - 1 are exact doubles.
"""

from __future__ import annotations

from collections.abc import Sequence

from leaderboard.boards.models import Order, RankStyle
from leaderboard.lib.keys import IndexKeys
from leaderboard.lib.scripts import LuaScript, ScriptArg, ScriptPipeline
from leaderboard.ranking.changes import ApplyCall
from leaderboard.ranking.reads import IndexReads, index_script
from leaderboard.ranking.values import (
    NO_EVENTS,
    STREAM_TTL_MS,
    CheckState,
    EventTarget,
    HeldEntry,
    IndexChange,
    member_for,
    player_of,
    to_redis_score,
)

APPLY = index_script("index_apply.lua", "index_apply_change.lua")
APPLY_SPANS = index_script("index_apply_spans.lua", "index_apply_change.lua")
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
        self._apply_spans = pipeline.bind(APPLY_SPANS)
        self._remove = pipeline.bind(REMOVE)
        self._swap = pipeline.bind(SWAP)
        self._check = pipeline.bind(CHECK)
        self._entries = pipeline.bind(ENTRIES)
        self._repair = pipeline.bind(REPAIR)
        self._notes = pipeline.bind(NOTES)
        self._fill = pipeline.bind(FILL)

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
        """:meth:`apply_one` by its parts (tools and tests that drive the index).

        Without ``events`` nothing is published. ``ranks``: the board's style, which the
        events and ``board_rank`` follow. ``segment``: the player's country index of the
        period, changed alike if built.
        """
        return await self.apply_one(
            ApplyCall(
                keys, order, player_id, score, reached_seq, ttl_ms, events or NO_EVENTS,
                after_rebuild=after_rebuild, ranks=ranks, segment=segment,
            )
        )  # fmt: skip

    async def apply_one(self, call: ApplyCall) -> IndexChange:
        """Apply a committed score; publishes one rank_changed event when it changes.

        Raises:
            IndexNotReadyError: the index is not built (lost, never built, or torn).
            NotFoundError: the player was deleted.

        """
        outcome = call.outcome(await self._apply(call.script_keys(), call.script_args()))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def apply_many(self, calls: Sequence[ApplyCall]) -> list[IndexChange | Exception]:
        """Several changes in one script run (a submission's spans: D-043), in order.

        Each change's outcome: its IndexChange, or the IndexNotReadyError / NotFoundError
        that :meth:`apply` would raise for it (the other changes are applied regardless).
        """
        keys: list[str] = []
        counts: list[ScriptArg] = []
        args: list[ScriptArg] = []
        for call in calls:
            call_keys = call.script_keys()
            keys += call_keys
            counts.append(len(call_keys))
            args += call.script_args()
        replies = await self._apply_spans(keys, [len(calls), *counts, *args])
        return [call.outcome(reply) for call, reply in zip(calls, replies, strict=True)]

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
