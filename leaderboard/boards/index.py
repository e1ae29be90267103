"""A leaderboard period's Redis index: apply, remove, read (docs/ranking.md).

Ranking rule: rank 1 is the best; equal scores are ordered by who reached the score
first. The sorted set's score is the stored score, negated on ``desc`` boards, so the
best entry always has the lowest Redis score and ``ZRANK`` is the rank - 1 on every
board. Equal Redis scores are ordered by member bytes, and a member starts with the
16-hex-digit ``reached_seq`` of the change that set the score (a Postgres sequence), so
earlier changes sort first. Integer scores with |score| ≤ 2^53 - 1 are exact doubles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leaderboard.boards.models import Order
from leaderboard.errors import NotFoundError
from leaderboard.keys import IndexKeys
from leaderboard.redis_client import AnyRedis
from leaderboard.redis_pipeline import ScriptPipeline

_HERE = Path(__file__).parent


def _index_script(name: str) -> str:
    """A script with the helpers every index script shares (index_members.lua) before it."""
    return (_HERE / "index_members.lua").read_text() + (_HERE / name).read_text()


def member_for(reached_seq: int, player_id: str) -> str:
    return f"{seq_hex(reached_seq)}:{player_id}"


def seq_hex(reached_seq: int) -> str:
    """What the members hash holds for a player: the sequence part of their member."""
    return f"{reached_seq:016x}"


def member_of(player_id: str, hash_value: str) -> str:
    """A player's member from their members-hash value (as the scripts derive it).

    Indexes written before the hash held only the sequence hold the whole member.
    """
    return f"{hash_value}:{player_id}" if len(hash_value) == 16 else hash_value


def player_of(member: str) -> str:
    return member[17:]


def to_redis_score(score: int, order: Order) -> int:
    return -score if order == "desc" else score


def from_redis_score(value: str | float, order: Order) -> int:
    # Doubles hold every integer up to 2^53 exactly, and so does this conversion.
    score = int(float(value))
    return -score if order == "desc" else score


# The event stream outlives the last event by a week (clients resume within minutes).
STREAM_TTL_MS = 7 * 86_400_000


@dataclass(frozen=True, slots=True)
class EventTarget:
    """Where and how the apply script announces a change."""

    channel: str
    stream: str
    head: str  # events.models.event_head(...)
    stream_length: int = 1000
    publish_command: str = "PUBLISH"  # SPUBLISH on a Redis Cluster


NO_EVENTS = EventTarget(channel="", stream="", head="")


class IndexNotReadyError(Exception):
    """The index of that period is missing (lost or never built): rebuild it first."""


@dataclass(frozen=True, slots=True)
class Applied:
    applied: bool
    published: bool  # one rank_changed event went out
    previous_rank: int | None  # 1-based
    previous_score: int | None
    rank: int
    score: int
    total: int


@dataclass(frozen=True, slots=True)
class Slice:
    total: int
    first_rank: int  # 1-based rank of the first entry
    entries: list[tuple[str, int]]  # (player id, score), best first
    player_rank: int | None = None  # around: the player's 1-based rank, None without entry


class BoardIndex:
    """The scripts that touch an index; one instance per worker, shared by every board."""

    def __init__(self, redis: AnyRedis, *, pipeline: ScriptPipeline | None = None) -> None:
        self.redis = redis
        # Applies and reads of concurrent requests share pipelines (redis_pipeline.py).
        self._pipeline = pipeline or ScriptPipeline(redis)
        self._apply = redis.register_script(_index_script("index_apply.lua"))
        self._remove = redis.register_script(_index_script("index_remove.lua"))
        self._read = redis.register_script(_index_script("index_read.lua"))
        self.swap = redis.register_script(_index_script("index_swap.lua"))

    async def apply(
        self,
        keys: IndexKeys,
        order: Order,
        player_id: str,
        score: int,
        reached_seq: int,
        expire_at_ms: int,
        events: EventTarget | None = None,
        *,
        after_rebuild: bool = False,
    ) -> Applied:
        """Apply a committed score; publishes one rank_changed event when it changes.

        Without ``events`` nothing is published (tools and tests that drive the index).
        """
        events = events or NO_EVENTS
        reply = await self._pipeline.run(
            self._apply,
            [
                keys.scores,
                keys.members,
                keys.ready,
                keys.lock,
                keys.journal,
                events.stream or keys.journal,  # a key of the same slot; unused then
            ],
            [
                player_id,
                to_redis_score(score, order),
                member_for(reached_seq, player_id),
                expire_at_ms,
                events.channel,
                events.head,
                -1 if order == "desc" else 1,
                events.stream_length,
                STREAM_TTL_MS,
                events.publish_command,
                1 if after_rebuild else 0,
            ],
        )
        status = int(reply[0])
        if status == -1:
            raise IndexNotReadyError(keys.scores)
        if status == -2:
            raise NotFoundError(f"no player with id {player_id!r} (deleted)")
        _, previous_rank, previous_score, rank, current_score, total = reply
        return Applied(
            applied=status == 1,
            published=status in (1, 2) and events is not NO_EVENTS,
            previous_rank=None if previous_rank is None else int(previous_rank) + 1,
            previous_score=None
            if previous_score is None
            else from_redis_score(previous_score, order),
            rank=int(rank) + 1,
            score=from_redis_score(current_score, order),
            total=int(total),
        )

    async def remove(self, keys: IndexKeys, player_id: str, client: Any = None) -> Any:
        return await self._remove(
            keys=[keys.scores, keys.members, keys.lock, keys.journal],
            args=[player_id],
            client=client,
        )

    async def top(self, keys: IndexKeys, order: Order, offset: int, limit: int) -> Slice:
        return self._slice(
            await self._pipeline.run(
                self._read,
                [keys.scores, keys.members, keys.ready, keys.lock],
                ["top", offset, offset + limit - 1],
            ),
            order,
        )

    async def around(self, keys: IndexKeys, order: Order, player_id: str, radius: int) -> Slice:
        return self._slice(
            await self._pipeline.run(
                self._read,
                [keys.scores, keys.members, keys.ready, keys.lock],
                ["around", player_id, radius],
            ),
            order,
        )

    @staticmethod
    def _slice(reply: list[Any], order: Order) -> Slice:
        if int(reply[0]) == -1:
            raise IndexNotReadyError()
        _, total, first, flat, player_rank = reply
        entries = [
            (player_of(flat[i]), from_redis_score(flat[i + 1], order))
            for i in range(0, len(flat), 2)
        ]
        return Slice(
            total=int(total),
            first_rank=int(first) + 1,
            entries=entries,
            player_rank=None if player_rank is None else int(player_rank) + 1,
        )
