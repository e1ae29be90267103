"""Zones and zone_changed events of the cohort script against a brute-force model.

cohort_apply.lua compares zones only next to the zones' edges (it must not walk a whole
cohort of 1,000 per submission). Here random changes (new players, moves up and down,
ties, stale writes) go through the real script on a real Redis, and after each one the
events it published are compared with every player's zone before and after, computed
from scratch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from leaderboard.boards.models import RateLimitConfig
from leaderboard.events.models import ZoneChanged
from leaderboard.leagues.cohorts import Cohort, CohortIndex, EventSettings
from leaderboard.leagues.models import League, Tier
from leaderboard.leagues.repository import LeagueRepository
from leaderboard.leagues.zones import zone_of
from leaderboard.lib.db import Database
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.scripts import ScriptPipeline
from tests.conftest import CLUSTER

pytestmark = pytest.mark.redis_modes

NOW = datetime(2026, 6, 17, 12, tzinfo=UTC)


def league_with(promote: int, demote: int, order: str) -> League:
    """Three tiers; the middle one (level 2) promotes and demotes as asked."""
    tiers = [
        Tier(name="Low", promote=1, demote=0),
        Tier(name="Mid", promote=promote, demote=demote),
        Tier(name="High", promote=0, demote=1),
    ]
    return League(
        id=f"z-{uuid.uuid4().hex[:10]}",
        name="zones",
        schedule="weekly",
        order=order,  # type: ignore[arg-type]
        operator="latest",
        cohort_size=1000,
        tiers=tiers,
        rate_limit=RateLimitConfig(),
        season=1,
        season_started_at=NOW - timedelta(days=2),
        season_ends_at=NOW + timedelta(days=5),
        created_at=NOW,
    )


@dataclass
class Model:
    promote: int
    demote: int
    desc: bool
    entries: dict[str, tuple[int, int]] = field(default_factory=dict)  # player → (score, seq)

    def ranking(self) -> list[str]:
        sign = -1 if self.desc else 1
        return sorted(self.entries, key=lambda p: (sign * self.entries[p][0], self.entries[p][1]))

    def zones(self) -> dict[str, tuple[str, int]]:
        ranked = self.ranking()
        return {
            player: (zone_of(rank, len(ranked), self.promote, self.demote), rank)
            for rank, player in enumerate(ranked, start=1)
        }


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, int, bool, list[tuple[int, int, bool]]]:
    promote = draw(st.integers(0, 4))
    demote = draw(st.integers(0, 4))
    desc = draw(st.booleans())
    # Few players and few distinct scores: many ties, many moves both ways.
    steps = draw(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 6)), min_size=1, max_size=40))
    stale = draw(st.sets(st.integers(0, len(steps) - 1), max_size=3))
    return promote, demote, desc, [(p, s, i in stale) for i, (p, s) in enumerate(steps)]


@pytest.fixture
async def index(
    redis: AnyRedis, redis_key_prefix: str, redis_mode: str, db: Database
) -> CohortIndex:
    return CohortIndex(
        ScriptPipeline(redis),
        Keys(redis_key_prefix),
        LeagueRepository(db),
        EventSettings(stream_length=100_000, sharded_pubsub=redis_mode == CLUSTER),
        lambda: NOW,
    )


async def events_after(redis: AnyRedis, stream: str, after: str) -> tuple[list[ZoneChanged], str]:
    entries: list[tuple[str, dict[str, str]]] = await redis.xrange(  # type: ignore[assignment]
        stream, min=f"({after}" if after != "-" else "-"
    )
    events = [msgspec.json.decode(fields["event"], type=ZoneChanged) for _, fields in entries]
    return events, entries[-1][0] if entries else after


@pytest.mark.slow  # 150 examples: the full lane runs it
@hypothesis_settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
async def test_every_zone_change_is_announced_and_no_other(
    index: CohortIndex,
    redis: AnyRedis,
    redis_key_prefix: str,
    scenario: tuple[int, int, bool, list[tuple[int, int, bool]]],
) -> None:
    promote, demote, desc, steps = scenario
    league = league_with(promote, demote, "desc" if desc else "asc")
    cohort = Cohort(league, 1, 2, 1)
    keys = index.keys(cohort)
    await redis.set(keys.ready, "1")  # an empty cohort, ready (no Postgres behind it here)
    stream = Keys(redis_key_prefix).league_events_stream(league.id)
    model = Model(promote, demote, desc)
    players = [str(uuid.UUID(int=i + 1)) for i in range(10)]
    last_id, seq = "-", 100
    for who, score, stale in steps:
        player = players[who]
        before = model.zones()
        seq += 1
        written_seq = seq
        if stale and player in model.entries:
            written_seq = model.entries[player][1] - 1  # older than what the index holds
        change = await index.apply(cohort, player, score, written_seq)
        if written_seq == seq:
            model.entries[player] = (score, seq)
        after = model.zones()
        events, last_id = await events_after(redis, stream, last_id)
        expected = [
            (p, zone, before[p][0] if p in before else None, rank)
            for p, (zone, rank) in after.items()
            if p not in before or before[p][0] != zone
        ]
        mover = [e for e in expected if e[0] == player]
        others = sorted((e for e in expected if e[0] != player), key=lambda e: e[3])
        got = [(e.player_id, e.zone, e.previous_zone, e.rank) for e in events]
        assert got == mover + others, (promote, demote, desc, steps)
        assert all(
            (e.league, e.season, e.cohort, e.at) == (league.id, 1, "1-2-1", NOW) for e in events
        )
        assert (change.rank, change.zone, change.members) == (
            after[player][1], after[player][0], len(after)
        )  # fmt: skip
        assert change.written == (written_seq == seq)
