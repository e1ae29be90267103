"""League administration, and the league configuration every request reads.

A worker keeps a league it read for two seconds. Its season changes when a season
closes, and then every worker drops its copy before the close answers (or, for a
scheduled close, before the close job moves on): lib/invalidation.py.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable

from leaderboard.audit.repository import AuditLog
from leaderboard.leagues.models import League, LeagueCreate
from leaderboard.leagues.repository import LeagueRepository
from leaderboard.leagues.schedule import season_around
from leaderboard.lib.clock import Clock
from leaderboard.lib.db import Database
from leaderboard.lib.errors import InvalidInputError, NotFoundError
from leaderboard.lib.invalidation import Invalidations
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.validation import BOARD_ID

LOCAL_TTL_SECONDS = 2.0
INVALIDATION_TOPIC = "league"


class LeagueService:
    def __init__(
        self,
        db: Database,
        repository: LeagueRepository,
        audit: AuditLog,
        clock: Clock,
        invalidations: Invalidations,
    ) -> None:
        self._db = db
        self._repository = repository
        self._audit = audit
        self._clock = clock
        self._invalidations = invalidations
        self._local: dict[str, tuple[float, League | None]] = {}
        self._generation = 0
        invalidations.register(INVALIDATION_TOPIC, self._drop_copy, self._drop_all_copies)
        self.forget_keys: list[Callable[[str], Awaitable[None]]] = []
        """Called with a league's id when it is made or deleted, before the commit: its
        Redis keys go (the cohort index fills this in)."""

    async def create(self, spec: LeagueCreate, actor: str) -> League:
        names = [tier.name for tier in spec.tiers]
        if len(set(names)) != len(names):
            raise InvalidInputError("tiers", "each tier needs a name of its own")
        now = self._clock()
        async with self._db.transaction() as conn:
            league = await self._repository.create(
                conn, spec, created_at=now, season=season_around(spec.schedule, now)
            )
            await self._audit.record(
                conn,
                actor=actor,
                action="league.create",
                target=f"league:{league.id}",
                details={"schedule": league.schedule, "tiers": names},
            )
            # Leftovers of an earlier league of this id (deleted while Redis was away).
            await self._forget(league.id)
        self._local.pop(league.id, None)
        return league

    async def get(self, league_id: str) -> League:
        if not BOARD_ID.fullmatch(league_id):
            raise NotFoundError(f"no league {league_id[:64]!r}")
        cached = self._local.get(league_id)
        if cached is not None and cached[0] > time.monotonic():
            league = cached[1]
        else:
            generation = self._generation
            league = await self._repository.get(league_id)
            if generation == self._generation:
                self._local[league_id] = (time.monotonic() + LOCAL_TTL_SECONDS, league)
        if league is None:
            raise NotFoundError(f"no league {league_id[:64]!r}")
        return league

    async def fresh(self, league_id: str) -> League:
        """The league as Postgres has it now (no worker's copy)."""
        league = await self._repository.get(league_id)
        if league is None:
            raise NotFoundError(f"no league {league_id[:64]!r}")
        return league

    async def list(self) -> list[League]:
        return await self._repository.all()

    async def delete(self, league_id: str, actor: str) -> None:
        if not BOARD_ID.fullmatch(league_id):
            raise NotFoundError(f"no league {league_id[:64]!r}")
        async with self._db.transaction() as conn:
            if not await self._repository.delete(conn, league_id):
                raise NotFoundError(f"no league {league_id[:64]!r}")
            await self._audit.record(
                conn, actor=actor, action="league.delete", target=f"league:{league_id}"
            )
            await self._forget(league_id)  # before the commit: a Redis outage keeps it whole
        await self.changed(league_id)
        with contextlib.suppress(*REDIS_OUTAGE_ERRORS):  # a fill between unlink and commit
            await self._forget(league_id)

    async def changed(self, league_id: str) -> None:
        """Every worker drops its copy of the league (its season moved on, or it went)."""
        await self._invalidations.announce(INVALIDATION_TOPIC, league_id)

    def _drop_copy(self, league_id: str) -> None:
        self._generation += 1
        self._local.pop(league_id, None)

    def _drop_all_copies(self) -> None:
        self._generation += 1
        self._local.clear()

    async def _forget(self, league_id: str) -> None:
        for forget in self.forget_keys:
            await forget(league_id)
