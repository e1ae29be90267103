"""Closing seasons: at their end (a job in every worker) or at once (the admin).

A close has two steps:

1. **Results and the next season** (season_repository.py): one transaction, so it
   happens once, whatever the number of workers trying, and a crash rolls it back whole.
   From its commit on, the next season takes submissions, and each player's next tier
   is known.
2. **What follows** (:meth:`SeasonCloser.finish`): the ``season_ended`` events, in
   batches in a fixed order, each published by one script that first sets the batch's
   marker (NX), so a batch goes out once however often the step restarts; then the
   closed cohorts' indexes are unlinked and the close is marked finished. Progress is
   noted in Postgres after each batch, so a worker that takes over after a crash starts
   where the dead one stopped.

The job (``run_once`` every ``LEADERBOARD_LEAGUE_CHECK_SECONDS``) closes every season
past its end, and finishes any close left unfinished; per league one worker at a time,
under a lease (lib/leases.py) that only spares duplicate work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import msgspec

from leaderboard.leagues.cohorts import CohortIndex
from leaderboard.leagues.models import League
from leaderboard.leagues.schedule import next_season
from leaderboard.leagues.season_repository import Close, SeasonRepository
from leaderboard.leagues.service import LeagueService
from leaderboard.leagues.zones import cohort_id
from leaderboard.lib.clock import Clock
from leaderboard.lib.db import Database
from leaderboard.lib.errors import ConflictError, DependencyUnavailableError, NotFoundError
from leaderboard.lib.leases import Lease, LostLease
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.tasks import Periodic, stop_tasks

logger = logging.getLogger(__name__)

# season_ended events per script call: about 10 ms of Redis, so other requests are never
# held up for longer.
ANNOUNCE_BATCH = 1000
LEASE_SECONDS = 60
LEASE_RENEW_SECONDS = 10
_OUTAGES: tuple[type[Exception], ...] = (DependencyUnavailableError, *REDIS_OUTAGE_ERRORS)


@dataclass
class CloseReport:
    closed: list[tuple[str, int]] = field(default_factory=list)
    """(league, season) closed by this round."""
    finished: list[tuple[str, int]] = field(default_factory=list)
    """(league, season) whose events and clean-up this round completed."""
    busy: list[str] = field(default_factory=list)
    """Leagues another worker was at (their lease was taken)."""


class SeasonCloser:
    def __init__(
        self,
        *,
        db: Database,
        leagues: LeagueService,
        seasons: SeasonRepository,
        index: CohortIndex,
        clock: Clock,
        interval_seconds: float,
    ) -> None:
        self._db = db
        self._leagues = leagues
        self._seasons = seasons
        self._index = index
        self._clock = clock
        self._rounds = Periodic(
            "season-closer", interval_seconds, self.run_once, skippable=_OUTAGES
        )
        self._finishing: set[asyncio.Task[None]] = set()
        self.after_announce: Callable[[int], Awaitable[None]] | None = None
        """A test hook: awaited after each batch of events went out, before its progress
        is noted (where a dying worker leaves the most to redo)."""

    def start(self) -> None:
        self._rounds.start()

    def wake(self) -> None:
        """Run a round now (a submission found its season past its end)."""
        self._rounds.wake()

    async def close(self) -> None:
        await self._rounds.close()
        await stop_tasks(list(self._finishing))

    async def end_now(self, league_id: str, season: int | None, actor: str) -> League:
        """The admin ends the current season (``season``, when given, must be it).

        The next season starts at once; the season's events go out in the background.

        Raises:
            NotFoundError: no such league.
            ConflictError: ``season`` is not the league's open season (409).

        """
        league = await self._leagues.fresh(league_id)
        wanted = league.season if season is None else season
        closed = None
        if wanted == league.season:
            closed = await self._close(league, wanted, actor=actor)
        if closed is None:
            raise ConflictError(
                f"season {wanted} of league {league_id!r} is not open "
                f"(the current season is {league.season}); it is closed already"
                if wanted <= league.season
                else f"season {wanted} of league {league_id!r} has not started"
            )
        await self._announce_change(league_id)
        task = asyncio.create_task(self._finish_quietly(closed))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)
        return await self._leagues.fresh(league_id)

    async def run_once(self) -> CloseReport:
        """Close every season past its end, and finish every unfinished close."""
        report = CloseReport()
        for league_id, season in await self._seasons.due(self._clock()):
            async with self._leased(league_id, report) as lease:
                if lease is not None:
                    closed = await self._close_due(league_id, season)
                    if closed is not None:
                        report.closed.append((league_id, season))
                        await self.finish(closed, lease)
                        report.finished.append((league_id, season))
        for close in await self._seasons.unfinished():
            async with self._leased(close.league_id, report) as lease:
                if lease is not None:
                    await self.finish(close, lease)
                    report.finished.append((close.league_id, close.season))
        return report

    async def finish(self, close: Close, lease: Lease | None = None) -> None:
        """Announce a closed season to every player of it, then clean its indexes up.

        Batch n+1's results are read from Postgres while batch n is published; progress is
        noted after each batch, the lease renewed every few seconds.
        """
        try:
            league = await self._leagues.fresh(close.league_id)
        except NotFoundError:
            return  # deleted meanwhile: its closes went with it
        season_ended = SeasonEndedEvents(league, close)
        batch, after = close.announced, close.after
        renewed = time.monotonic()
        rows = await self._seasons.results_after(league.id, close.season, after, ANNOUNCE_BATCH)
        while rows:
            last = rows[-1]
            after = (last["tier"], last["cohort"], last["rank"])
            _, following = await asyncio.gather(
                self._index.announce(
                    league.id, close.season, batch, [season_ended.event(row) for row in rows]
                ),
                self._seasons.results_after(league.id, close.season, after, ANNOUNCE_BATCH),
            )
            if self.after_announce is not None:
                await self.after_announce(batch)
            batch += 1
            await self._seasons.note_announced(league.id, close.season, batch, after)
            if lease is not None and time.monotonic() - renewed > LEASE_RENEW_SECONDS:
                await lease.renew()
                renewed = time.monotonic()
            rows = following
        joined = await self._seasons.joined(league.id, close.season)
        cohorts = [
            cohort_id(close.season, tier, number)
            for tier, players in joined.items()
            for number in range(1, -(-players // league.cohort_size) + 1)
        ]
        await self._index.forget_cohorts(league.id, close.season, cohorts)
        await self._seasons.finish(league.id, close.season)
        logger.info(
            "league %s: season %d closed for %d players", league.id, close.season, close.players
        )

    async def _close_due(self, league_id: str, season: int) -> Close | None:
        try:
            league = await self._leagues.fresh(league_id)
        except NotFoundError:
            return None
        closed = await self._close(league, season, actor=None)
        if closed is not None:
            await self._announce_change(league_id)
        return closed

    async def _close(self, league: League, season: int, *, actor: str | None) -> Close | None:
        """Close ``season`` now, if it is still the league's open one.

        By the admin (``actor``): even before its end; by the job: only once it is due. A
        season ended before its end starts the next one at once.
        """
        now = self._clock()
        return await self._seasons.close_season(
            league,
            season,
            now=now,
            early=actor is not None,
            next_season=next_season(league.schedule, now, early=now < league.season_ends_at),
            actor=actor,
        )

    @contextlib.asynccontextmanager
    async def _leased(self, league_id: str, report: CloseReport) -> AsyncIterator[Lease | None]:
        """The league's close lease for the block (None: another worker holds it)."""
        lease = Lease(self._db, f"league-close:{league_id}", LEASE_SECONDS)
        if not await lease.take():
            report.busy.append(league_id)
            yield None
            return
        try:
            yield lease
        except LostLease:
            logger.warning(
                "league %s: close lease lost to another worker; it carries on", league_id
            )
        finally:
            await lease.end()

    async def _finish_quietly(self, close: Close) -> None:
        """Finish an admin's close in the background; the job takes over if this fails."""
        report = CloseReport()
        try:
            async with self._leased(close.league_id, report) as lease:
                if lease is not None:
                    await self.finish(close, lease)
        except _OUTAGES as exc:
            logger.warning(
                "league %s: season %d is closed; its events go out in the next round (%s)",
                close.league_id,
                close.season,
                exc,
            )

    async def _announce_change(self, league_id: str) -> None:
        """Every worker drops its copy of the league (best effort: copies live 2 s)."""
        with contextlib.suppress(*REDIS_OUTAGE_ERRORS):
            await self._leagues.changed(league_id)


class SeasonEndedEvents:
    """A closed season's ``season_ended`` events as JSON, without the closing brace.

    ``SeasonEnded``'s fields in its order; the publishing script adds the event's id and
    the brace. Built from parts encoded once per season: a million events are a format
    each.
    """

    def __init__(self, league: League, close: Close) -> None:
        def encoded(value: object) -> str:
            return msgspec.json.encode(value).decode()

        self._head = (
            f'{{"type":"season_ended","league":{encoded(league.id)},"season":{close.season},'
            '"player_id":"'
        )
        self._at = encoded(close.closed_at)
        self._tiers = [encoded(tier.name) for tier in league.tiers]
        self._season = close.season

    def event(self, row: asyncpg.Record) -> str:
        tier, new_tier = row["tier"], row["new_tier"]
        return (
            f'{self._head}{row["player_id"]}","tier":{self._tiers[tier - 1]},'
            f'"new_tier":{self._tiers[new_tier - 1]},"rank":{row["rank"]},'
            f'"zone":"{row["zone"]}","at":{self._at},'
            f'"cohort":"{cohort_id(self._season, tier, row["cohort"])}","score":{row["score"]}'
        )
