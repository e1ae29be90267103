"""A change for the apply script (index_apply_change.lua): its KEYS, ARGV and reply.

One :class:`ApplyCall` is one span's change; ``index_apply.lua`` runs one, and
``index_apply_spans.lua`` a submission's every span in one script run (D-043).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from leaderboard.boards.models import Board, Order, RankStyle
from leaderboard.lib.errors import NotFoundError
from leaderboard.lib.keys import IndexKeys
from leaderboard.lib.scripts import ScriptArg
from leaderboard.ranking.values import (
    NO_EVENTS,
    STREAM_TTL_MS,
    EventTarget,
    IndexChange,
    IndexNotReadyError,
    from_redis_score,
    member_for,
    to_redis_score,
)


@dataclass(frozen=True, slots=True)
class SpanChange:
    """A committed row of one span of a submission, for its index (RankIndex.apply_spans)."""

    board: Board
    """The board as the span ranks it (``Board.view_of``)."""
    period: date
    score: int
    seq: int
    changed: bool


@dataclass(frozen=True, slots=True)
class ApplyCall:
    """One change for the apply script: its KEYS and ARGV, and what its reply means."""

    keys: IndexKeys
    order: Order
    player_id: str
    score: int
    reached_seq: int
    ttl_ms: int
    events: EventTarget
    after_rebuild: bool = False
    ranks: RankStyle = "ordinal"
    segment: IndexKeys | None = None

    def script_keys(self) -> list[str]:
        keys = self.keys
        more = [] if self.segment is None else _segment_keys(self.segment)
        return [
            keys.scores,
            keys.members,
            keys.ready,
            keys.lock,
            keys.journal,
            self.events.stream or keys.journal,  # a key of the same slot; unused then
            keys.distinct,
            *more,
            keys.digest,  # the last (index_apply_change.lua: KEYS[#KEYS])
        ]

    def script_args(self) -> list[ScriptArg]:
        events = self.events
        return [
            self.player_id,
            to_redis_score(self.score, self.order),
            member_for(self.reached_seq, self.player_id),
            self.ttl_ms,
            events.channel,
            events.head,
            -1 if self.order == "desc" else 1,
            events.stream_length,
            STREAM_TTL_MS,
            events.publish_command,
            1 if self.after_rebuild else 0,
            events.overtake,
            events.overtaken_head,
            events.overtaken_middle,
            self.ranks,
        ]

    def outcome(self, reply: list[Any]) -> IndexChange | Exception:
        """The change the script's reply reports, or the error it stands for."""
        status = int(reply[0])
        if status == -1:
            return IndexNotReadyError(self.keys.scores)
        if status == -2:
            return NotFoundError(f"no player with id {self.player_id!r} (deleted)")
        _, previous_rank, previous_score, rank, current_score, total = reply[:6]
        board_previous_rank, board_rank = reply[6], reply[7]
        order = self.order
        return IndexChange(
            written=status == 1,
            published=status in (1, 2) and self.events is not NO_EVENTS,
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
