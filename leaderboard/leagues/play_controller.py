"""``/v1/leagues/{id}/…``: submissions, a player's standing, cohorts, past seasons."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from leaderboard.auth.guards import authenticate_leaving_session_unchecked, confirm_session
from leaderboard.auth.principal import Principal
from leaderboard.leagues.deps import LeaguePlayDep
from leaderboard.leagues.models import CohortPage, LeagueSubmission, SeasonHistory, Standing
from leaderboard.lib.errors import InvalidInputError, ServiceError
from leaderboard.lib.negotiation import negotiated
from leaderboard.lib.openapi import BEARER, RATE_LIMIT_HEADERS, ApiOperation, errors


class LeaguePlayController(Controller):
    path = "/v1/leagues/{league_id:str}"
    tags = ["leagues"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post(
        "/scores",
        status_code=200,
        summary="Submit a league score (player; or admin / server key with player_id)",
        description="The player's first accepted submission of a season places them in a "
        "cohort of their tier. Answers their rank and zone in the cohort. Throttled per "
        "player by the league's rate limit (429 with Retry-After). A 200 means the score "
        "is committed.",
        # Authenticated without a guard's copy; a session the worker does not know is
        # checked in the submission's rate-limit call (leagues/admission.py).
        before_request=authenticate_leaving_session_unchecked(LeagueSubmission),
        operation_id="submitLeagueScore",
        operation_class=ApiOperation,
        security=BEARER,
        response_headers=RATE_LIMIT_HEADERS,
        responses=errors(
            400,
            401,
            403,
            404,
            409,
            413,
            429,
            503,
            notes={
                400: "Also no player_id from the admin or a server key, a score written as a "
                "float, or a sum that would leave the range.",
                403: "A player submitting for another, a banned player, or a server key "
                "limited to some leaderboards.",
                404: "No such league or player.",
                409: "The season has ended and is being closed: retry after Retry-After.",
                429: "Over the league's rate limit for this player.",
            },
        ),
    )
    async def submit(
        self,
        request: Request[Any, Principal, Any],
        league_id: FromPath[str],
        data: JSONBody[LeagueSubmission],
        league_play: LeaguePlayDep,
    ) -> Response[Standing]:
        try:
            raw = await request.json()
            if type(raw.get("score")) is not int:
                raise InvalidInputError("score", "must be a JSON integer")
            caller = request.auth
            player_id = caller.submitting_for_league(data.player_id)
            submitted = await league_play.submit(
                league_id, player_id, data.score, caller.actor, session=caller.unchecked
            )
        except ServiceError:
            await confirm_session(request)  # a bad token is a 401 whatever else was wrong
            raise
        return negotiated(request, submitted.standing, headers=submitted.headers)

    @get(
        "/players/{player_id:str}",
        summary="A player's standing in the current season; 404 when they have not played it",
        operation_id="getLeagueStanding",
        operation_class=ApiOperation,
        responses=errors(404, 503, notes={404: "No such league, or no play this season."}),
    )
    async def standing(
        self,
        request: Request[Any, Any, Any],
        league_id: FromPath[str],
        player_id: FromPath[str],
        league_play: LeaguePlayDep,
    ) -> Response[Standing]:
        return negotiated(request, await league_play.standing(league_id, player_id))

    @get(
        "/players/{player_id:str}/seasons",
        summary="The closed seasons a player played, newest first",
        operation_id="getLeagueSeasons",
        operation_class=ApiOperation,
        responses=errors(400, 404, 503, notes={404: "No such league."}),
    )
    async def seasons(
        self,
        request: Request[Any, Any, Any],
        league_id: FromPath[str],
        player_id: FromPath[str],
        league_play: LeaguePlayDep,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
    ) -> Response[SeasonHistory]:
        return negotiated(request, await league_play.history(league_id, player_id, limit))

    @get(
        "/cohorts/{cohort:str}",
        summary="A cohort, best first, with each player's zone",
        description="A cohort of the current season is live; one of a closed season shows "
        "its final ranks and zones (`closed: true`).",
        operation_id="getCohort",
        operation_class=ApiOperation,
        responses=errors(404, 503, notes={404: "No such league or cohort."}),
    )
    async def cohort(
        self,
        request: Request[Any, Any, Any],
        league_id: FromPath[str],
        cohort: FromPath[str],
        league_play: LeaguePlayDep,
    ) -> Response[CohortPage]:
        return negotiated(request, await league_play.cohort(league_id, cohort))
