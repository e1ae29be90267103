"""``/v1/leagues``: creating, reading and deleting leagues, and ending a season early."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody

from leaderboard.auth.guards import admin_only
from leaderboard.auth.principal import Principal
from leaderboard.leagues.deps import LeaguesDep, SeasonsDep
from leaderboard.leagues.models import League, LeagueCreate, LeagueList, SeasonEnd
from leaderboard.lib.openapi import BEARER, ApiOperation, errors


class LeaguesController(Controller):
    path = "/v1/leagues"
    tags = ["leagues"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post(
        "/",
        summary="Create a league (admin); its first season is the one under way",
        description="Seasons follow `schedule` (00:00 UTC; weeks start on Monday, months "
        "on the 1st). Tiers are listed lowest first; each season a player plays in a "
        "cohort of `cohort_size` players of their tier.",
        guards=[admin_only],
        operation_id="createLeague",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(
            400,
            401,
            403,
            409,
            413,
            503,
            notes={400: "Also two tiers with one name.", 409: "A league has this id already."},
        ),
    )
    async def create(
        self,
        request: Request[Any, Principal, Any],
        data: JSONBody[LeagueCreate],
        leagues: LeaguesDep,
    ) -> League:
        return await leagues.create(data, request.auth.actor or "admin")

    @get(
        "/",
        summary="Every league",
        operation_id="listLeagues",
        operation_class=ApiOperation,
        responses=errors(503),
    )
    async def list_leagues(self, leagues: LeaguesDep) -> LeagueList:
        return LeagueList(leagues=await leagues.list())

    @get(
        "/{league_id:str}",
        summary="A league, with its current season",
        operation_id="getLeague",
        operation_class=ApiOperation,
        responses=errors(404, 503),
    )
    async def get_league(self, league_id: FromPath[str], leagues: LeaguesDep) -> League:
        return await leagues.get(league_id)

    @delete(
        "/{league_id:str}",
        status_code=204,
        summary="Delete a league, its seasons and keys (admin)",
        guards=[admin_only],
        operation_id="deleteLeague",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(401, 403, 404, 503),
    )
    async def delete_league(
        self, request: Request[Any, Principal, Any], league_id: FromPath[str], leagues: LeaguesDep
    ) -> None:
        await leagues.delete(league_id, request.auth.actor or "admin")

    @post(
        "/{league_id:str}/season/end",
        status_code=200,
        summary="End the current season now (admin); the next one starts at once",
        description="Every player of the season moves up a tier, down one or stays; "
        "`season_ended` events follow. The next season ends at the next boundary of the "
        'schedule. With `{"season": n}`, only season n is ended (409 when it is not the '
        "current one). Answers the league, in its new season.",
        guards=[admin_only],
        operation_id="endSeason",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(
            400,
            401,
            403,
            404,
            409,
            503,
            notes={409: "The season is closed already (or, with `season`, not the current one)."},
        ),
    )
    async def end_season(
        self,
        request: Request[Any, Principal, Any],
        league_id: FromPath[str],
        seasons: SeasonsDep,
        data: JSONBody[SeasonEnd | None] = None,
    ) -> League:
        season = None if data is None else data.season
        return await seasons.end_now(league_id, season, request.auth.actor or "admin")
