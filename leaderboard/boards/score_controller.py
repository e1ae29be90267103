"""``/v1/leaderboards/{id}/…``: score submission and the ranked reads."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from leaderboard.auth.guards import admin_only, authenticated
from leaderboard.auth.principal import Principal
from leaderboard.boards.deps import RankingsDep, ScoresDep
from leaderboard.boards.models import Page, PlayerEntry, ScoreSubmission, SubmitResult
from leaderboard.lib.errors import InvalidInputError
from leaderboard.lib.negotiation import negotiated
from leaderboard.moderation.controller import actor_of
from leaderboard.moderation.deps import ModerationDep

IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7e]{1,128}$")


def idempotency_key(request: Request[Any, Any, Any]) -> str | None:
    """The ``Idempotency-Key`` header: 1 to 128 printable ASCII characters, if sent."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise InvalidInputError("Idempotency-Key", "expected 1 to 128 printable ASCII characters")
    return key


PeriodQuery = Annotated[
    str | None,
    QueryParameter(
        description="current (default), previous, or any date YYYY-MM-DD inside the period",
        max_length=16,
    ),
]


class ScoresController(Controller):
    path = "/v1/leaderboards/{board_id:str}"
    tags = ["leaderboards"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post(
        "/scores",
        status_code=200,
        summary="Submit a score (player; or admin with player_id); answers the new rank",
        description="Throttled per player by the board's rate limit (429 with Retry-After). "
        "A 200 means the score is committed.",
        guards=[authenticated],
    )
    async def submit_score(
        self,
        request: Request[Any, Principal, Any],
        board_id: FromPath[str],
        data: JSONBody[ScoreSubmission],
        scores: ScoresDep,
    ) -> Response[SubmitResult]:
        # Litestar converts bodies leniently ("10" would become 10); a score must be a
        # JSON integer. The parsed body is cached, so this reads no byte twice.
        raw = await request.json()
        if type(raw.get("score")) is not int:
            raise InvalidInputError("score", "must be a JSON integer")
        caller = request.auth
        player_id = caller.submitting_for(data.player_id, board_id)
        submitted = await scores.submit_score(
            board_id,
            player_id,
            data.score,
            data.metadata,
            idempotency_key=idempotency_key(request),
            actor=caller.actor,
        )
        headers = submitted.headers
        if submitted.replayed:
            headers = {**headers, "Idempotent-Replayed": "true"}
        return negotiated(request, submitted.result, headers=headers)

    @get("/top", summary="A page of the ranking, best first")
    async def top(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        rankings: RankingsDep,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 10,
        offset: Annotated[int, QueryParameter(ge=0, le=2**31)] = 0,
        period: PeriodQuery = None,
    ) -> Response[Page]:
        return negotiated(request, await rankings.top(board_id, period, offset, limit))

    @get("/players/{player_id:str}", summary="A player's entry; 404 without one")
    async def entry(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        player_id: FromPath[str],
        rankings: RankingsDep,
        period: PeriodQuery = None,
    ) -> Response[PlayerEntry]:
        return negotiated(request, await rankings.entry(board_id, player_id, period))

    @delete(
        "/players/{player_id:str}",
        status_code=204,
        summary="Remove one entry (admin); the ranks below it close up",
        description="Publishes an `entry_removed` event. The player may submit again later.",
        guards=[admin_only],
    )
    async def remove_entry(
        self,
        request: Request[Any, Principal, Any],
        board_id: FromPath[str],
        player_id: FromPath[str],
        moderation: ModerationDep,
        period: PeriodQuery = None,
    ) -> None:
        await moderation.remove_entry(board_id, player_id, period, actor_of(request))

    @get(
        "/players/{player_id:str}/around",
        summary="The player's entry with up to `radius` entries on each side",
    )
    async def around(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        player_id: FromPath[str],
        rankings: RankingsDep,
        radius: Annotated[int, QueryParameter(ge=0, le=100)] = 5,
        period: PeriodQuery = None,
    ) -> Response[Page]:
        return negotiated(request, await rankings.around(board_id, player_id, period, radius))
