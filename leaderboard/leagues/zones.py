"""Zones and cohort ids: the arithmetic every part of the leagues agrees on.

A cohort of ``n`` members whose tier promotes ``promote`` and demotes ``demote`` (already
0 where the tier is the highest, resp. the lowest): ranks ``1..min(promote, n)`` are in
the promotion zone, the last ``min(demote, n - those)`` in the demotion zone (never
overlapping it), the rest stay. cohort_apply.lua computes the same in Redis, and the
season's close in SQL (season_repository.py).
"""

from __future__ import annotations

import re

from leaderboard.leagues.models import Zone
from leaderboard.lib.errors import NotFoundError

_COHORT_ID = re.compile(r"^([1-9][0-9]{0,8})-([1-9][0-9]?)-([1-9][0-9]{0,8})$")


def zone_of(rank: int, members: int, promote: int, demote: int) -> Zone:
    promoted = min(promote, members)
    demoted = min(demote, members - promoted)
    if rank <= promoted:
        return "promote"
    if rank > members - demoted:
        return "demote"
    return "stay"


def cohort_id(season: int, tier: int, number: int) -> str:
    """``<season>-<tier level>-<n>``: the n-th cohort of a tier in a season (from 1)."""
    return f"{season}-{tier}-{number}"


def parse_cohort_id(value: str) -> tuple[int, int, int]:
    """(season, tier level, n) of a cohort id; 404 for anything else."""
    match = _COHORT_ID.fullmatch(value)
    if match is None:
        raise NotFoundError(f"no cohort {value[:40]!r}: cohort ids look like 3-1-12")
    return int(match[1]), int(match[2]), int(match[3])
