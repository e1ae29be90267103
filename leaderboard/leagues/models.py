"""What a league is, what creating one takes, and the bodies of its reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from leaderboard.boards.models import BoardId, BoardName, Operator, Order, RateLimitConfig, Score
from leaderboard.lib.validation import NO_CONTROLS

Schedule = Literal["daily", "weekly", "monthly"]
Zone = Literal["promote", "stay", "demote"]
TierName = Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_CONTROLS)]
Places = Annotated[int, Meta(ge=0, le=1000)]


class Tier(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: TierName
    """Unique in the league; what answers and events call the tier."""
    promote: Places
    """How many of a cohort's best move up a tier when the season closes (none from the
    highest tier)."""
    demote: Places
    """How many of a cohort's last move down a tier (none from the lowest tier)."""


class LeagueCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: BoardId
    name: BoardName | None = None
    schedule: Schedule
    order: Order = "desc"
    operator: Operator = "sum"
    cohort_size: Annotated[int, Meta(ge=2, le=1000)] = 30
    tiers: Annotated[list[Tier], Meta(min_length=1, max_length=20)]
    """Lowest first; a new player starts in the first."""
    rate_limit: RateLimitConfig = msgspec.field(default_factory=RateLimitConfig)


class League(msgspec.Struct, kw_only=True):
    id: str
    name: str
    schedule: Schedule
    order: Order
    operator: Operator
    cohort_size: int
    tiers: list[Tier]
    rate_limit: RateLimitConfig
    season: int
    """The current season: 1 for the first."""
    season_started_at: datetime
    season_ends_at: datetime
    created_at: datetime

    def tier_name(self, level: int) -> str:
        """The name of tier ``level`` (1: the lowest)."""
        return self.tiers[level - 1].name

    def zone_places(self, level: int) -> tuple[int, int]:
        """(promote, demote) places of a cohort of tier ``level``.

        None up from the highest tier, none down from the lowest.
        """
        tier = self.tiers[level - 1]
        promote = 0 if level == len(self.tiers) else tier.promote
        demote = 0 if level == 1 else tier.demote
        return promote, demote


class LeagueList(msgspec.Struct, kw_only=True):
    leagues: list[League]


class LeagueSubmission(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    score: Score
    player_id: str | None = None
    """With the admin token or a server key: the player the score is for."""


class SeasonEnd(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    season: Annotated[int, Meta(ge=1)] | None = None
    """The season to end; 409 unless it is the current one. Absent: the current one."""


class Standing(msgspec.Struct, kw_only=True):
    """A player in their cohort of the current season."""

    player_id: str
    season: int
    tier: str
    """The tier's name."""
    cohort: str
    score: int
    rank: int
    """Within the cohort: 1 is the best; equal scores rank by who reached them first."""
    previous_rank: int | None
    """The rank before this submission (null for the first; null on reads)."""
    zone: Zone
    season_ends_at: datetime
    league: str
    tier_level: int
    """1 for the lowest tier."""
    members: int
    """The cohort's members now (at most the league's cohort_size)."""


class CohortEntry(msgspec.Struct, kw_only=True):
    rank: int
    player_id: str
    display_name: str | None
    score: int
    zone: Zone


class CohortPage(msgspec.Struct, kw_only=True):
    league: str
    season: int
    tier: str
    cohort: str
    entries: list[CohortEntry]
    tier_level: int
    closed: bool
    """True for a cohort of a closed season: final ranks and zones."""
    season_ends_at: datetime | None
    """When the cohort's season ends (null once it has closed)."""


class SeasonResult(msgspec.Struct, kw_only=True):
    season: int
    tier: str
    cohort: str
    rank: int
    score: int
    zone: Zone
    new_tier: str
    """The tier the season gave the player for their next season."""


class SeasonHistory(msgspec.Struct, kw_only=True):
    league: str
    player_id: str
    seasons: list[SeasonResult]
    """The closed seasons the player played, newest first."""
