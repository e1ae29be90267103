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
    """Points to add (on an asc board: to take away) to pass the entry ranked just above;
    null at rank 1."""


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
