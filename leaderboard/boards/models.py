"""A leaderboard's configuration: what a board is, and what creating one takes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from leaderboard.lib.validation import NO_CONTROLS

# \Z, not $: see lib/validation.py.
BoardId = Annotated[
    str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}\Z", description="A slug: a-z, 0-9, _ and -")
]
Order = Literal["desc", "asc"]
Operator = Literal["best", "latest", "sum"]
Reset = Literal["never", "daily", "weekly", "monthly"]
RankStyle = Literal["ordinal", "competition", "dense"]
"""How tied scores are numbered: 1, 2, 3, 4 (ordinal), 1, 2, 2, 4 (competition) or
1, 2, 2, 3 (dense); the order of the entries is the same under all three."""
RANK_STYLES: tuple[RankStyle, ...] = ("ordinal", "competition", "dense")
Segment = Literal["country"]
Segments = Annotated[list[Segment], Meta(max_length=1)]
MAX_SCORE = 2**53 - 1
Score = Annotated[int, Meta(ge=-MAX_SCORE, le=MAX_SCORE, description="|score| ≤ 2^53 - 1")]
BoardName = Annotated[str, Meta(min_length=1, max_length=128, pattern=NO_CONTROLS)]
MaxSubmissions = Annotated[int, Meta(ge=1, le=1_000_000)]
OvertakeEvents = Annotated[int, Meta(ge=0, le=100)]
KeepPeriods = Annotated[int, Meta(ge=1, le=100_000)]
LedgerDays = Annotated[int, Meta(ge=0, le=3650)]
Review = Literal["none", "rules", "all"]
ReviewJump = Annotated[int, Meta(ge=1, le=MAX_SCORE)]
ReviewTop = Annotated[int, Meta(ge=1, le=1_000_000)]


class RateLimitConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    limit: Annotated[int, Meta(ge=1, le=10_000)] = 10
    window_seconds: Annotated[int, Meta(ge=1, le=86_400)] = 60


class BoardCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: BoardId
    name: BoardName | None = None
    order: Order = "desc"
    operator: Operator = "best"
    reset: Reset = "never"
    rate_limit: RateLimitConfig = msgspec.field(default_factory=RateLimitConfig)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    client_submissions: bool = True
    """False: only the admin or a server key may submit (a player's token gets 403)."""
    min_score: Score | None = None
    """The lowest value a submission may carry (on ``sum`` boards: the value added)."""
    max_score: Score | None = None
    """The highest value a submission may carry (on ``sum`` boards: the value added)."""
    starts_at: datetime | None = None
    """Submissions before this moment get 409; reads work at any time."""
    ends_at: datetime | None = None
    """Submissions from this moment on get 409; reads work at any time."""
    max_submissions: MaxSubmissions | None = None
    """Accepted submissions per player per period; beyond it 409."""
    overtake_events: OvertakeEvents = 10
    """How many of the nearest players a submission passes get an ``overtaken`` event."""
    keep_periods: KeepPeriods | None = None
    """Resetting boards only: how many periods to keep, the current one included (2: this
    one and the previous); older ones are dropped and read as nothing recorded. None: all."""
    ranks: RankStyle = "ordinal"
    """How reads, submission answers and events number tied scores (``?ranks=`` overrides
    it on a read)."""
    segments: Segments = msgspec.field(default_factory=list)
    """``["country"]``: reads may ask for the players of one country (``?country=``)."""
    ledger_days: LedgerDays = 30
    """How many whole days the ledger keeps each submission; 0: no ledger (no voids)."""
    review: Review = "none"
    """Which player submissions wait for a decision: none, those the rules pick, all."""
    review_jump: ReviewJump | None = None
    """``rules``: hold a submission that improves the stored score by more than this."""
    review_top: ReviewTop | None = None
    """``rules``: hold a submission that would rank the player within this top."""


class BoardPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Rules to change on an existing board (``PATCH``).

    Absent fields stay as they are, null clears the optional ones. ``id``, ``order``,
    ``operator`` and ``reset`` are fixed when the board is created (they decide how its
    stored scores rank): sending one is a 400 naming it.
    """

    name: BoardName | UnsetType = UNSET
    metadata: dict[str, Any] | UnsetType = UNSET
    """Replaces the whole object."""
    rate_limit: RateLimitConfig | UnsetType = UNSET
    client_submissions: bool | UnsetType = UNSET
    min_score: Score | UnsetType | None = UNSET
    max_score: Score | UnsetType | None = UNSET
    starts_at: datetime | UnsetType | None = UNSET
    ends_at: datetime | UnsetType | None = UNSET
    """Not in the past; null: no end."""
    max_submissions: MaxSubmissions | UnsetType | None = UNSET
    overtake_events: OvertakeEvents | UnsetType = UNSET
    keep_periods: KeepPeriods | UnsetType | None = UNSET
    ranks: RankStyle | UnsetType = UNSET
    """Only the numbers change (the order of entries never does): allowed at any time."""
    ledger_days: LedgerDays | UnsetType = UNSET
    """Between 1 and 3650 on a board with a ledger; a board's ledger is not added or
    removed after its creation (0 to more, or back: 400)."""
    review: Review | UnsetType = UNSET
    review_jump: ReviewJump | UnsetType | None = UNSET
    review_top: ReviewTop | UnsetType | None = UNSET

    def changes(self) -> dict[str, Any]:
        """The fields sent, by name."""
        return {
            field: value
            for field in self.__struct_fields__
            if (value := getattr(self, field)) is not UNSET
        }


class Board(msgspec.Struct, kw_only=True):
    id: str
    name: str
    order: Order
    operator: Operator
    reset: Reset
    rate_limit: RateLimitConfig
    metadata: dict[str, Any]
    created_at: datetime
    client_submissions: bool = True
    min_score: int | None = None
    max_score: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_submissions: int | None = None
    overtake_events: int = 10
    keep_periods: int | None = None
    """How many periods are kept, the current one included; None: all (docs/postgres.md)."""
    ranks: RankStyle = "ordinal"
    """How tied scores are numbered (RankStyle)."""
    segments: list[Segment] = msgspec.field(default_factory=list)
    """The segments reads may ask for (``country``); fixed at creation."""
    ledger_days: int = 30
    review: Review = "none"
    review_jump: int | None = None
    review_top: int | None = None
    open: bool = True
    """Whether submissions are accepted now (between ``starts_at`` and ``ends_at``)."""

    def is_open(self, now: datetime) -> bool:
        return (self.starts_at is None or now >= self.starts_at) and (
            self.ends_at is None or now < self.ends_at
        )


class BoardList(msgspec.Struct, kw_only=True):
    leaderboards: list[Board]
