"""What the index holds and answers, as values: members, scores, and the scripts' replies.

The ranking rule's encoding (docs/ranking.md): the sorted set's score is the stored score,
negated on ``desc`` boards, so the best entry always has the lowest Redis score; a member
is ``<reached seq, 16 hex>:<player id>``, so equal scores order by who reached them first.
"""

from __future__ import annotations

from dataclasses import dataclass

from leaderboard.boards.models import Order, RankStyle
from leaderboard.events.topics import STREAM_TTL_MS as STREAM_TTL_MS


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


@dataclass(frozen=True, slots=True)
class EventTarget:
    """Where and how the apply script announces a change."""

    channel: str
    stream: str
    head: str  # events.models.event_head(...)
    stream_length: int = 1000
    publish_command: str = "PUBLISH"  # SPUBLISH on a Redis Cluster
    overtake: int = 0
    """How many of the nearest players a move passes get an ``overtaken`` event."""
    overtaken_head: str = ""
    overtaken_middle: str = ""
    """The constant parts of those events (events.models.overtaken_parts)."""


NO_EVENTS = EventTarget(channel="", stream="", head="")


# A removed player's members-hash value: greater than every sequence, so that a late write
# of a score committed before the removal is refused. The index scripts get it from here.
TOMBSTONE = "ffffffffffffffff"


class IndexNotReadyError(Exception):
    """The index of that period is missing (lost or never built): rebuild it first."""


@dataclass(frozen=True, slots=True)
class IndexChange:
    """What ``IndexScripts.apply`` did with a committed score."""

    written: bool
    """The index took this change (False: it held it, or a newer one, already)."""
    published: bool  # one rank_changed event went out
    previous_rank: int | None  # 1-based
    previous_score: int | None
    rank: int
    score: int
    total: int
    board_rank: int = 0
    """``rank`` as the board numbers ranks (its ``ranks`` style): what answers and events
    show. ``rank`` and ``previous_rank`` are positions (ordinal)."""
    board_previous_rank: int | None = None


@dataclass(frozen=True, slots=True)
class CheckState:
    """What ``IndexScripts.check`` read of an index, for the worker that took the check."""

    marker: str | None
    """The ready marker's value (the run id it was built on); None: not ready."""
    entries: int
    members: int
    """Fields of the members hash (entries and tombstones): fewer than ``entries`` is torn."""
    player_cursor: str
    rank_cursor: int
    suspects: list[str]
    """``<period key>|<player id>`` whose last write's outcome was unknown."""
    digest: dict[int, str]
    """Bucket → its digest as the index holds it (index_digest.lua)."""


@dataclass(frozen=True, slots=True)
class HeldEntry:
    """What the index holds for one player: the members-hash value and the Redis score."""

    value: str | None
    redis_score: str | None

    @property
    def seq(self) -> int | None:
        if self.value is None or len(self.value) != 16 or self.value == TOMBSTONE:
            return None
        return int(self.value, 16)


@dataclass(frozen=True, slots=True)
class Histogram:
    """Bucket i holds the entries scoring ``lowest + i*width`` … ``lowest + (i+1)*width - 1``."""

    total: int
    lowest: int
    width: int
    counts: list[int]
    highest: int = 0
    """The highest stored score: the last bucket ends there."""


# Where the profile cache keeps a player's display name: the key around the player id
# ("<prefix>player:{", "}:profile"), for reads that fetch names with the entries; NO_NAMES
# where they cannot (a Redis Cluster: the profiles live in other slots).
NameKeys = tuple[str, str]
NO_NAMES: NameKeys = ("", "")


@dataclass(frozen=True, slots=True)
class ReadView:
    """How a read shows its entries: with names (where to find them), in which rank style."""

    names: NameKeys = NO_NAMES
    ranks: RankStyle = "ordinal"


PLAIN = ReadView()


@dataclass(frozen=True, slots=True)
class Slice:
    total: int
    first_rank: int  # 1-based rank of the first entry
    entries: list[tuple[str, int]]  # (player id, score), best first
    player_rank: int | None = None  # around: the player's 1-based rank, None without entry
    ranks: list[int] | None = None  # players: each entry's 1-based rank (not consecutive)
    names: list[str | int | None] | None = None
    """Per entry, its cached display name (0: a cached "no such player"; None: not cached),
    when the read fetched them; None when it did not."""
    styled: list[int] | None = None
    """Per entry, its rank in the style the read asked for; None: ordinal (the positions,
    or ``ranks``)."""
    better: int | None = None
    """entry, in a style other than ordinal: the nearest score strictly better than the
    player's (None at the top), for ``to_next``."""

    def shown_ranks(self) -> list[int]:
        """The rank to show of each entry: styled, else listed, else by position."""
        if self.styled is not None:
            return self.styled
        if self.ranks is not None:
            return self.ranks
        return list(range(self.first_rank, self.first_rank + len(self.entries)))
