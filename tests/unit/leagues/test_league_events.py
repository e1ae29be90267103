"""The season_ended events the close formats by hand are SeasonEnded's, field for field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from leaderboard.boards.models import RateLimitConfig
from leaderboard.events.models import SeasonEnded
from leaderboard.leagues.models import League, Tier
from leaderboard.leagues.season_repository import Close
from leaderboard.leagues.seasons import SeasonEndedEvents
from leaderboard.leagues.zones import cohort_id, parse_cohort_id, zone_of

AT = datetime(2026, 6, 22, 0, 0, 1, 250_000, tzinfo=UTC)


def league() -> League:
    return League(
        id="weekly-league",
        name="Weekly",
        schedule="weekly",
        order="desc",
        operator="sum",
        cohort_size=30,
        tiers=[
            Tier(name="Bronze", promote=2, demote=0),
            Tier(name='Silver "2"', promote=2, demote=2),  # a name JSON must escape
            Tier(name="Gold", promote=0, demote=2),
        ],
        rate_limit=RateLimitConfig(),
        season=4,
        season_started_at=AT,
        season_ends_at=AT,
        created_at=AT,
    )


def test_a_formatted_event_is_what_msgspec_encodes() -> None:
    row: Any = {
        "player_id": "7c0e6f1a-2b3c-4d5e-8f90-123456789abc",
        "tier": 2,
        "cohort": 14,
        "rank": 1,
        "score": 2**53 - 1,
        "zone": "promote",
        "new_tier": 3,
    }
    close = Close("weekly-league", 3, AT, 1000, 0, (0, 0, 0))
    formatted = SeasonEndedEvents(league(), close).event(row) + ',"id":"1-0"}'
    expected = SeasonEnded(
        league="weekly-league",
        season=3,
        player_id=row["player_id"],
        tier='Silver "2"',
        new_tier="Gold",
        rank=1,
        zone="promote",
        at=AT,
        cohort="3-2-14",
        score=2**53 - 1,
        id="1-0",
    )
    assert formatted == msgspec.json.encode(expected).decode()


def test_zones_never_overlap_and_follow_the_cohorts_size() -> None:
    assert [zone_of(r, 4, 5, 5) for r in range(1, 5)] == ["promote"] * 4
    assert [zone_of(r, 7, 2, 2) for r in range(1, 8)] == (
        ["promote"] * 2 + ["stay"] * 3 + ["demote"] * 2
    )
    assert [zone_of(r, 3, 2, 2) for r in range(1, 4)] == ["promote", "promote", "demote"]
    assert [zone_of(r, 3, 0, 0) for r in range(1, 4)] == ["stay"] * 3


def test_cohort_ids_round_trip() -> None:
    assert parse_cohort_id(cohort_id(12, 3, 450)) == (12, 3, 450)
