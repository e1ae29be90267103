"""Playing a league: submissions, a player's standing, a cohort, a player's past seasons."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from leaderboard.auth.sessions import UncheckedSession
from leaderboard.leagues.admission import LeagueAdmission
from leaderboard.leagues.cohorts import Cohort, CohortIndex
from leaderboard.leagues.models import (
    CohortEntry,
    CohortPage,
    League,
    SeasonHistory,
    SeasonResult,
    Standing,
)
from leaderboard.leagues.repository import LeagueRepository
from leaderboard.leagues.service import LeagueService
from leaderboard.leagues.writer import LeagueSubmit, LeagueWriter, SeasonClosedError
from leaderboard.leagues.zones import cohort_id, parse_cohort_id, zone_of
from leaderboard.lib.clock import Clock
from leaderboard.lib.db import Connection
from leaderboard.lib.errors import DependencyUnavailableError, NotFoundError, outage_reason
from leaderboard.lib.ids import canonical_player_id
from leaderboard.lib.logs import REQUEST_ID
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.tasks import stop_tasks
from leaderboard.players.service import PlayerService

logger = logging.getLogger(__name__)

# How long a worker keeps trying to put a committed score into its cohort's index after
# Redis failed (a lost index is filled from Postgres anyway, whoever reads it next).
REPAIR_FOR_SECONDS = 600
_RETRIED: tuple[type[Exception], ...] = (DependencyUnavailableError, *REDIS_OUTAGE_ERRORS)


@dataclass(frozen=True, slots=True)
class Submitted:
    standing: Standing
    headers: dict[str, str] = field(default_factory=dict)


class LeaguePlay:
    def __init__(
        self,
        *,
        leagues: LeagueService,
        repository: LeagueRepository,
        writer: LeagueWriter,
        index: CohortIndex,
        admission: LeagueAdmission,
        players: PlayerService,
        clock: Clock,
        season_over: Callable[[], None],
    ) -> None:
        self._leagues = leagues
        self._repository = repository
        self._writer = writer
        self._index = index
        self._admission = admission
        self._players = players
        self._clock = clock
        self._season_over = season_over
        self._repairs: set[asyncio.Task[None]] = set()

    async def submit(
        self,
        league_id: str,
        player_id: str,
        score: int,
        actor: str | None,
        session: UncheckedSession | None = None,
    ) -> Submitted:
        """Rate limit, commit (placing a newcomer), apply to the cohort, announce zones.

        ``session``: the player's, when the worker has not checked it yet (checked with
        the rate limit, before anything is written).
        """
        league = await self._leagues.get(league_id)
        player_id = canonical_player_id(player_id)
        decision = await self._admission.admit(league, player_id, session)
        submission = LeagueSubmit(
            league, player_id, score, self._clock(), actor=actor, request_id=REQUEST_ID.get()
        )
        try:
            placed = await self._writer.commit(submission)
        except SeasonClosedError:
            self._season_over()  # the close job runs now rather than at its next round
            raise
        cohort = Cohort(league, placed.season, placed.tier, placed.cohort)
        try:
            change = await self._index.apply(
                cohort, player_id, placed.score, placed.reached_seq, joined=placed.joined
            )
        except REDIS_OUTAGE_ERRORS as exc:
            self._apply_later(cohort, player_id)
            raise DependencyUnavailableError(
                "redis",
                f"the score was recorded, but its rank cannot be read now ({outage_reason(exc)})",
            ) from exc
        # A change the index held already (filled from Postgres after it was lost): where
        # the player stood before it is not known.
        absorbed = placed.previous_score != placed.score and not change.written
        standing = Standing(
            player_id=player_id,
            season=placed.season,
            tier=league.tier_name(placed.tier),
            cohort=cohort.id,
            score=placed.score,
            rank=change.rank,
            previous_rank=None if placed.joined or absorbed else change.previous_rank,
            zone=change.zone,
            season_ends_at=placed.season_ends_at,
            league=league.id,
            tier_level=placed.tier,
            members=change.members,
        )
        return Submitted(standing, decision.headers())

    async def standing(self, league_id: str, player_id: str) -> Standing:
        """The player in their cohort of the current season; 404 when they have not played."""
        league = await self._leagues.get(league_id)
        player_id = canonical_player_id(player_id)
        placement = await self._repository.placement(league.id, league.season, player_id)
        found = None
        if placement is not None:
            cohort = Cohort(league, league.season, *placement)
            found = await self._index.standing(cohort, player_id)
        if placement is None or found is None:
            raise NotFoundError(
                f"player {player_id!r} has not played season {league.season} of {league.id!r}"
            )
        rank, score, members = found
        return Standing(
            player_id=player_id,
            season=league.season,
            tier=league.tier_name(cohort.tier),
            cohort=cohort.id,
            score=score,
            rank=rank,
            previous_rank=None,
            zone=zone_of(rank, members, *league.zone_places(cohort.tier)),
            season_ends_at=league.season_ends_at,
            league=league.id,
            tier_level=cohort.tier,
            members=members,
        )

    async def cohort(self, league_id: str, wanted: str) -> CohortPage:
        """A cohort, best first: live for the current season, final for a closed one."""
        league = await self._leagues.get(league_id)
        season, tier, number = parse_cohort_id(wanted)
        if season > league.season or tier > len(league.tiers):
            raise NotFoundError(f"no cohort {wanted!r} in league {league.id!r}")
        promote, demote = league.zone_places(tier)
        if season == league.season:
            entries = await self._index.entries(Cohort(league, season, tier, number))
            ranked = [
                (rank, player, score, zone_of(rank, len(entries), promote, demote))
                for rank, (player, score) in enumerate(entries, start=1)
            ]
        else:
            rows = await self._repository.cohort_results(league.id, season, tier, number)
            ranked = [(r["rank"], r["player_id"], r["score"], r["zone"]) for r in rows]
        if not ranked:
            raise NotFoundError(f"no cohort {wanted!r} in league {league.id!r}")
        names = await self._players.display_names([player for _, player, _, _ in ranked])
        return CohortPage(
            league=league.id,
            season=season,
            tier=league.tier_name(tier),
            cohort=cohort_id(season, tier, number),
            entries=[
                CohortEntry(
                    rank=rank,
                    player_id=player,
                    display_name=names.get(player),
                    score=score,
                    zone=zone,
                )
                for rank, player, score, zone in ranked
            ],
            tier_level=tier,
            closed=season < league.season,
            season_ends_at=league.season_ends_at if season == league.season else None,
        )

    async def history(self, league_id: str, player_id: str, limit: int) -> SeasonHistory:
        """The closed seasons the player played, newest first."""
        league = await self._leagues.get(league_id)
        player_id = canonical_player_id(player_id)
        rows = await self._repository.history(league.id, player_id, limit)
        return SeasonHistory(
            league=league.id,
            player_id=player_id,
            seasons=[_result(league, row) for row in rows],
        )

    async def remove_player(
        self, conn: Connection, player_id: str
    ) -> Callable[[], Awaitable[None]]:
        """A deleted player's open cohorts, found in the deleting transaction.

        Their index entries go after the commit (their rows go with the player).
        """
        placements = await self._repository.open_placements(conn, player_id)
        await self._repository.forget_results(conn, player_id)

        async def remove_from_cohorts() -> None:
            for place in placements:
                try:
                    league = await self._leagues.get(place["league_id"])
                    cohort = Cohort(league, place["season"], place["tier"], place["cohort"])
                    await self._index.remove(cohort, player_id)
                except NotFoundError:
                    continue  # the league went meanwhile, and its keys with it
                except _RETRIED as exc:
                    logger.error(
                        "deleted player %s may still show in league %s (%s)",
                        player_id, place["league_id"], exc,
                    )  # fmt: skip

        return remove_from_cohorts

    async def close(self) -> None:
        await stop_tasks(list(self._repairs))

    def _apply_later(self, cohort: Cohort, player_id: str) -> None:
        task = asyncio.create_task(self._apply_when_back(cohort, player_id))
        self._repairs.add(task)
        task.add_done_callback(self._repairs.discard)

    async def _apply_when_back(self, cohort: Cohort, player_id: str) -> None:
        """Apply a committed score that missed its cohort's index, once Redis answers."""
        delay = 0.5
        deadline = asyncio.get_running_loop().time() + REPAIR_FOR_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(delay)
            try:
                stored = await self._repository.stored(cohort.league.id, cohort.season, player_id)
                if stored is not None:
                    await self._index.apply(cohort, player_id, *stored)
                return
            except NotFoundError:
                return
            except _RETRIED:
                delay = min(delay * 2, 30.0)
        logger.error("gave up putting %s's score in cohort %s", player_id, cohort.id)


def _result(league: League, row: asyncpg.Record) -> SeasonResult:
    return SeasonResult(
        season=row["season"],
        tier=league.tier_name(row["tier"]),
        cohort=cohort_id(row["season"], row["tier"], row["cohort"]),
        rank=row["rank"],
        score=row["score"],
        zone=row["zone"],
        new_tier=league.tier_name(row["new_tier"]),
    )
