"""Leagues in Postgres: their configuration, memberships and results.

The close's writes are in season_repository.py, submissions in writer.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from leaderboard.boards.models import RateLimitConfig
from leaderboard.leagues.models import League, LeagueCreate, Tier
from leaderboard.lib.db import Connection, Database
from leaderboard.lib.errors import ConflictError

_COLUMNS = (
    "id, name, schedule, sort_order, operator, cohort_size, tiers, rate_limit, "
    "rate_window_seconds, season, season_started_at, season_ends_at, created_at"
)


def to_league(row: asyncpg.Record) -> League:
    return League(
        id=row["id"],
        name=row["name"],
        schedule=row["schedule"],
        order=row["sort_order"],
        operator=row["operator"],
        cohort_size=row["cohort_size"],
        tiers=msgspec.convert(row["tiers"], list[Tier]),
        rate_limit=RateLimitConfig(
            limit=row["rate_limit"], window_seconds=row["rate_window_seconds"]
        ),
        season=row["season"],
        season_started_at=row["season_started_at"],
        season_ends_at=row["season_ends_at"],
        created_at=row["created_at"],
    )


class LeagueRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        conn: Connection,
        spec: LeagueCreate,
        *,
        created_at: datetime,
        season: tuple[datetime, datetime],
    ) -> League:
        """Insert the league, its first season (``season``: start, end) and its tier rows."""
        try:
            row = await conn.fetchrow(
                f"""
                INSERT INTO leagues
                    (id, name, schedule, sort_order, operator, cohort_size, tiers, rate_limit,
                     rate_window_seconds, season, season_started_at, season_ends_at, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11, $12)
                RETURNING {_COLUMNS}
                """,
                spec.id,
                spec.name or spec.id,
                spec.schedule,
                spec.order,
                spec.operator,
                spec.cohort_size,
                msgspec.to_builtins(spec.tiers),
                spec.rate_limit.limit,
                spec.rate_limit.window_seconds,
                season[0],
                season[1],
                created_at,
            )
        except asyncpg.UniqueViolationError:
            raise ConflictError(f"league {spec.id!r} exists already") from None
        assert row is not None
        await self.add_season_tiers(conn, spec.id, 1, len(spec.tiers))
        return to_league(row)

    @staticmethod
    async def add_season_tiers(conn: Connection, league_id: str, season: int, tiers: int) -> None:
        """The counter rows that first submissions of a season lock (one per tier)."""
        await conn.execute(
            "INSERT INTO league_tiers (league_id, season, tier) "
            "SELECT $1, $2, g FROM generate_series(1, $3) g",
            league_id,
            season,
            tiers,
        )

    async def get(self, league_id: str) -> League | None:
        row = await self._db.fetchrow(f"SELECT {_COLUMNS} FROM leagues WHERE id = $1", league_id)
        return to_league(row) if row else None

    async def all(self) -> list[League]:
        rows = await self._db.fetch(f"SELECT {_COLUMNS} FROM leagues ORDER BY id")
        return [to_league(row) for row in rows]

    async def delete(self, conn: Connection, league_id: str) -> bool:
        """Delete the league and everything of it (its results have no foreign key)."""
        await conn.execute("DELETE FROM league_results WHERE league_id = $1", league_id)
        return await conn.execute("DELETE FROM leagues WHERE id = $1", league_id) == "DELETE 1"

    async def cohort_members(
        self, league_id: str, season: int, tier: int, cohort: int
    ) -> list[asyncpg.Record]:
        """(player_id, score, reached_seq) of an open cohort: what its index is built from."""
        return await self._db.fetch(
            """
            SELECT player_id::text AS player_id, score, reached_seq FROM league_members
             WHERE league_id = $1 AND season = $2 AND tier = $3 AND cohort = $4
            """,
            league_id,
            season,
            tier,
            cohort,
        )

    async def placement(
        self, league_id: str, season: int, player_id: str
    ) -> tuple[int, int] | None:
        """(tier, cohort) of the player in that season; None when they did not play it."""
        row = await self._db.fetchrow(
            "SELECT tier, cohort FROM league_members "
            "WHERE league_id = $1 AND season = $2 AND player_id = $3::uuid",
            league_id,
            season,
            player_id,
        )
        return None if row is None else (row["tier"], row["cohort"])

    async def stored(self, league_id: str, season: int, player_id: str) -> tuple[int, int] | None:
        """(score, reached_seq) the player has in the season now; None without a row."""
        row = await self._db.fetchrow(
            "SELECT score, reached_seq FROM league_members "
            "WHERE league_id = $1 AND season = $2 AND player_id = $3::uuid",
            league_id,
            season,
            player_id,
        )
        return None if row is None else (row["score"], row["reached_seq"])

    async def cohort_results(
        self, league_id: str, season: int, tier: int, cohort: int
    ) -> list[asyncpg.Record]:
        """A closed cohort's final standings, best first."""
        return await self._db.fetch(
            """
            SELECT player_id::text AS player_id, rank, score, zone FROM league_results
             WHERE league_id = $1 AND season = $2 AND tier = $3 AND cohort = $4
             ORDER BY rank
            """,
            league_id,
            season,
            tier,
            cohort,
        )

    async def history(self, league_id: str, player_id: str, limit: int) -> list[asyncpg.Record]:
        """The player's results of closed seasons, newest first."""
        return await self._db.fetch(
            """
            SELECT season, tier, cohort, rank, score, zone, new_tier FROM league_results
             WHERE league_id = $1 AND player_id = $2::uuid
             ORDER BY season DESC LIMIT $3
            """,
            league_id,
            player_id,
            limit,
        )

    async def forget_results(self, conn: Connection, player_id: str) -> None:
        """A deleted player's results of closed seasons (they have no foreign key)."""
        await conn.execute("DELETE FROM league_results WHERE player_id = $1::uuid", player_id)

    async def open_placements(self, conn: Connection, player_id: str) -> list[dict[str, Any]]:
        """Where a player stands in every league's current season.

        Read inside the deleting transaction: their rows go with the player, their index
        entries after the commit.
        """
        rows = await conn.fetch(
            """
            SELECT m.league_id, m.season, m.tier, m.cohort FROM league_members m
              JOIN leagues l ON l.id = m.league_id AND l.season = m.season
             WHERE m.player_id = $1::uuid
            """,
            player_id,
        )
        return [dict(row) for row in rows]
