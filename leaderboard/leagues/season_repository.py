"""A season's close in Postgres: the results and the next season, in one transaction.

The transaction first takes the league's advisory lock exclusively; every submission
holds it shared while it commits (``league_submit``, which does not wait for it but
answers "closed"), so the results rank every score accepted in the season and no score
is accepted into a season after its results are written. Then it checks that the season
is still the league's current one (whoever comes second finds it moved on: a close
happens once however many workers try), writes every member's result, moves the league
on, and records the close. A crash anywhere rolls all of it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from leaderboard.audit.repository import AuditLog
from leaderboard.leagues.models import League
from leaderboard.leagues.repository import LeagueRepository
from leaderboard.lib.db import Database

# The class of the leagues' advisory locks (0x4C475545, "LGUE"); the second key is
# hashtext(league id). The same numbers as league_submit in the migration.
LOCK_CLASS = 1279743301
# The results of a season of a million players take seconds to write; the statement may
# take this long (the service's usual statement timeout is a few seconds).
CLOSE_TIMEOUT_SECONDS = 600.0

# Ranks within each cohort as the index orders them (score, then who reached it first),
# zones as zones.py computes them, and the tier each zone gives.
_RESULTS = """
    INSERT INTO league_results
        (league_id, player_id, season, tier, cohort, rank, score, zone, new_tier)
    SELECT r.league_id, r.player_id, r.season, r.tier, r.cohort, r.rank, r.score, z.zone,
           r.tier + CASE z.zone WHEN 'promote' THEN 1 WHEN 'demote' THEN -1 ELSE 0 END
      FROM (
        SELECT m.league_id, m.player_id, m.season, m.tier, m.cohort, m.score,
               row_number() OVER (PARTITION BY m.tier, m.cohort
                                  ORDER BY m.score * $3, m.reached_seq) AS rank,
               count(*) OVER (PARTITION BY m.tier, m.cohort) AS members
          FROM league_members m
         WHERE m.league_id = $1 AND m.season = $2
      ) r
      JOIN unnest($4::int[], $5::int[]) WITH ORDINALITY AS t(promote, demote, tier)
        ON t.tier = r.tier
     CROSS JOIN LATERAL (
        SELECT least(t.promote, r.members) AS promoted,
               least(t.demote, r.members - least(t.promote, r.members)) AS demoted
     ) p
     CROSS JOIN LATERAL (
        SELECT CASE WHEN r.rank <= p.promoted THEN 'promote'
                    WHEN r.rank > r.members - p.demoted THEN 'demote'
                    ELSE 'stay' END AS zone
     ) z
"""


@dataclass(frozen=True, slots=True)
class Close:
    """A close recorded in Postgres, and how far its follow-up got."""

    league_id: str
    season: int
    closed_at: datetime
    players: int
    announced: int
    """Batches of season_ended events published so far."""
    after: tuple[int, int, int]
    """(tier, cohort, rank) of the last result announced: the next batch starts after it."""


class SeasonRepository:
    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    async def close_season(
        self,
        league: League,
        season: int,
        *,
        now: datetime,
        early: bool,
        next_season: tuple[datetime, datetime],
        actor: str | None,
    ) -> Close | None:
        """Close ``season`` of ``league``.

        None when it is not the league's open season any more (closed by another worker
        meanwhile) or, unless ``early``, not due yet.
        """
        async with self._db.transaction() as conn:
            await conn.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))", LOCK_CLASS, league.id
            )
            row = await conn.fetchrow(
                "SELECT season, season_ends_at FROM leagues WHERE id = $1 FOR UPDATE", league.id
            )
            if row is None or row["season"] != season:
                return None
            if not early and row["season_ends_at"] > now:
                return None
            places = [league.zone_places(level) for level in range(1, len(league.tiers) + 1)]
            written = await conn.execute(
                _RESULTS,
                league.id,
                season,
                -1 if league.order == "desc" else 1,
                [promote for promote, _ in places],
                [demote for _, demote in places],
                timeout=CLOSE_TIMEOUT_SECONDS,
            )
            players = int(written.split()[-1])
            await conn.execute(
                """
                UPDATE leagues SET season = season + 1, season_started_at = $2,
                                   season_ends_at = $3
                 WHERE id = $1
                """,
                league.id,
                *next_season,
            )
            await LeagueRepository.add_season_tiers(conn, league.id, season + 1, len(league.tiers))
            await conn.execute(
                "INSERT INTO league_closes (league_id, season, closed_at, early, players) "
                "VALUES ($1, $2, $3, $4, $5)",
                league.id,
                season,
                now,
                early,
                players,
            )
            if actor is not None:
                await self._audit.record(
                    conn,
                    actor=actor,
                    action="league.season_end",
                    target=f"league:{league.id}",
                    details={"season": season, "players": players},
                )
        return Close(league.id, season, now, players, 0, (0, 0, 0))

    async def due(self, now: datetime) -> list[tuple[str, int]]:
        """(league id, season) of every open season past its end."""
        rows = await self._db.fetch(
            "SELECT id, season FROM leagues WHERE season_ends_at <= $1 ORDER BY season_ends_at",
            now,
        )
        return [(row["id"], row["season"]) for row in rows]

    async def unfinished(self) -> list[Close]:
        """Closes whose events or clean-up are not done (their worker died, or is at it)."""
        rows = await self._db.fetch(
            """
            SELECT league_id, season, closed_at, players, announced, after_tier, after_cohort,
                   after_rank
              FROM league_closes WHERE finished_at IS NULL ORDER BY closed_at
            """
        )
        return [_close(row) for row in rows]

    async def results_after(
        self, league_id: str, season: int, after: tuple[int, int, int], limit: int
    ) -> list[asyncpg.Record]:
        """The next ``limit`` results in announcing order (tier, cohort, rank)."""
        return await self._db.fetch(
            """
            SELECT player_id::text AS player_id, tier, cohort, rank, score, zone, new_tier
              FROM league_results
             WHERE league_id = $1 AND season = $2 AND (tier, cohort, rank) > ($3, $4, $5)
             ORDER BY tier, cohort, rank
             LIMIT $6
            """,
            league_id,
            season,
            *after,
            limit,
        )

    async def note_announced(
        self, league_id: str, season: int, batches: int, after: tuple[int, int, int]
    ) -> None:
        await self._db.execute(
            """
            UPDATE league_closes SET announced = $3, after_tier = $4, after_cohort = $5,
                                     after_rank = $6
             WHERE league_id = $1 AND season = $2
            """,
            league_id,
            season,
            batches,
            *after,
        )

    async def joined(self, league_id: str, season: int) -> dict[int, int]:
        """Tier → players who joined it in ``season`` (its cohorts follow from this)."""
        rows = await self._db.fetch(
            "SELECT tier, joined FROM league_tiers WHERE league_id = $1 AND season = $2",
            league_id,
            season,
        )
        return {row["tier"]: row["joined"] for row in rows}

    async def finish(self, league_id: str, season: int) -> None:
        await self._db.execute(
            "UPDATE league_closes SET finished_at = now() WHERE league_id = $1 AND season = $2",
            league_id,
            season,
        )


def _close(row: asyncpg.Record) -> Close:
    return Close(
        league_id=row["league_id"],
        season=row["season"],
        closed_at=row["closed_at"],
        players=row["players"],
        announced=row["announced"],
        after=(row["after_tier"], row["after_cohort"], row["after_rank"]),
    )
