"""Bodies of the ranked reads: pages, a player's entry, a histogram."""

from __future__ import annotations

from datetime import date

import msgspec


class Entry(msgspec.Struct, kw_only=True):
    rank: int
    player_id: str
    display_name: str | None
    score: int


class Page(msgspec.Struct, kw_only=True):
    leaderboard: str
    period: date | None
    total: int
    entries: list[Entry]


class PlayerEntry(msgspec.Struct, kw_only=True):
    player_id: str
    display_name: str | None
    score: int
    rank: int
    total: int
    leaderboard: str
    period: date | None
    percentile: float
    """The share of the other entries ranked below this one, 0-100 (100 when alone)."""
    to_next: int | None
    """Points to add (on an asc board: to take away) to pass the entry ranked just above
    (under competition and dense ranks: to equal the next better score); null at the top."""
    position: int = 0
    """The entry's place in the order, 1-based: its ordinal rank whatever the rank style
    (where a page of ``top`` finds it: ``offset = position - 1``)."""


class Bucket(msgspec.Struct, kw_only=True, rename={"low": "from", "high": "to"}):
    low: int
    """The bucket's lowest score (``from``)."""
    high: int
    """Its highest score (``to``), inclusive."""
    count: int


class HistogramPage(msgspec.Struct, kw_only=True):
    leaderboard: str
    period: date | None
    total: int
    buckets: list[Bucket]
    """Equal-width score ranges (whole points) from the lowest to the highest stored
    score, lowest first; their counts add up to ``total``."""


class PeriodStanding(msgspec.Struct, kw_only=True):
    period: date | None
    score: int
    rank: int
    """The final rank of an ended period; the live rank of the current one."""
    total: int
    percentile: float


class BestRank(msgspec.Struct, kw_only=True):
    period: date | None
    rank: int


class History(msgspec.Struct, kw_only=True):
    leaderboard: str
    span: str
    player_id: str
    periods: list[PeriodStanding]
    """The periods in which the player has an entry, newest first, the current included."""
    best: BestRank | None
    """The best rank of any period (the newest of equal ones); null without an entry."""
