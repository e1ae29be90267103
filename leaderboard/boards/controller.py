"""``/v1/leaderboards``: board administration, score submission and ranked reads."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from leaderboard.auth.principal import Principal
from leaderboard.boards.models import (
    Board,
    BoardCreate,
    BoardList,
    Page,
    PlayerEntry,
    ScoreSubmission,
    SubmitResult,
)
from leaderboard.errors import (
    DependencyUnavailableError,
    InvalidInputError,
    RateLimitedError,
    ServiceError,
)
from leaderboard.metrics import SUBMISSIONS
from leaderboard.negotiation import negotiated
from leaderboard.players.service import canonical_player_id
from leaderboard.plugin import BoardsDep, ScoresDep, ServicesDep
from leaderboard.validation import check_metadata

PeriodQuery = Annotated[
    str | None,
    QueryParameter(
        description="current (default), previous, or any date YYYY-MM-DD inside the period",
        max_length=16,
    ),
]


class LeaderboardsController(Controller):
    path = "/v1/leaderboards"
    tags = ["leaderboards"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", summary="Create a leaderboard (admin); 409 when the id exists")
    async def create(
        self, data: JSONBody[BoardCreate], principal: NamedDependency[Principal], boards: BoardsDep
    ) -> Board:
        principal.require_admin()
        return await boards.create(data)

    @get("/", summary="Every leaderboard")
    async def list_boards(self, boards: BoardsDep) -> BoardList:
        return BoardList(leaderboards=await boards.list())

    @get("/{board_id:str}", summary="A leaderboard's configuration")
    async def get_board(self, board_id: FromPath[str], boards: BoardsDep) -> Board:
        return await boards.get(board_id)

    @delete("/{board_id:str}", status_code=204, summary="Delete a board, its scores and keys")
    async def delete_board(
        self, board_id: FromPath[str], principal: NamedDependency[Principal], boards: BoardsDep
    ) -> None:
        principal.require_admin()
        await boards.delete(board_id)

    @post(
        "/{board_id:str}/scores",
        status_code=200,
        summary="Submit a score (player; or admin with player_id); answers the new rank",
        description="Throttled per player by the board's rate limit (429 with Retry-After). "
        "A 200 means the score is committed.",
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        data: JSONBody[ScoreSubmission],
        principal: NamedDependency[Principal],
        # `services` rather than `scores`: with `principal` (which depends on `services`
        # alone) nothing is left for Litestar to resolve in a task group (plugin.py).
        services: ServicesDep,
    ) -> Response[SubmitResult]:
        # Litestar converts bodies leniently ("10" would become 10); a score must be a
        # JSON integer. The parsed body is cached, so this reads no byte twice.
        raw = await request.json()
        if type(raw.get("score")) is not int:
            raise InvalidInputError("score", "must be a JSON integer")
        check_metadata("metadata", data.metadata)
        if principal.is_admin:
            if data.player_id is None:
                raise InvalidInputError("player_id", "required when submitting as the admin")
            player_id = data.player_id
        else:
            player_id = principal.require_player()
            if data.player_id is not None:
                principal.require_self_or_admin(canonical_player_id(data.player_id))
        try:
            result, headers = await services.scores.submit(
                board_id, player_id, data.score, data.metadata
            )
        except RateLimitedError:
            SUBMISSIONS.labels("throttled").inc()
            raise
        except DependencyUnavailableError:
            SUBMISSIONS.labels("failed").inc()
            raise
        except ServiceError:
            SUBMISSIONS.labels("rejected").inc()
            raise
        SUBMISSIONS.labels("accepted").inc()
        return negotiated(request, result, headers=headers)

    @get("/{board_id:str}/top", summary="A page of the ranking, best first")
    async def top(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        scores: ScoresDep,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 10,
        offset: Annotated[int, QueryParameter(ge=0, le=2**31)] = 0,
        period: PeriodQuery = None,
    ) -> Response[Page]:
        return negotiated(request, await scores.top(board_id, period, offset, limit))

    @get("/{board_id:str}/players/{player_id:str}", summary="A player's entry; 404 without one")
    async def entry(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        player_id: FromPath[str],
        scores: ScoresDep,
        period: PeriodQuery = None,
    ) -> Response[PlayerEntry]:
        return negotiated(request, await scores.entry(board_id, player_id, period))

    @get(
        "/{board_id:str}/players/{player_id:str}/around",
        summary="The player's entry with up to `radius` entries on each side",
    )
    async def around(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        player_id: FromPath[str],
        scores: ScoresDep,
        radius: Annotated[int, QueryParameter(ge=0, le=100)] = 5,
        period: PeriodQuery = None,
    ) -> Response[Page]:
        return negotiated(request, await scores.around(board_id, player_id, period, radius))
