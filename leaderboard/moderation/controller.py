"""Moderation (admin): remove one entry, ban and unban players."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, post
from litestar.params import FromPath, JSONBody

from leaderboard.auth.guards import admin_only
from leaderboard.auth.principal import Principal
from leaderboard.lib.openapi import BEARER, ApiOperation, errors
from leaderboard.moderation.deps import ModerationDep
from leaderboard.moderation.models import BanRequest
from leaderboard.ranking.controller import PLAYER_NOTES, PeriodQuery, SpanQuery


def actor_of(request: Request[Any, Principal, Any]) -> str:
    return request.auth.actor or "admin"


class ModerationController(Controller):
    tags = ["moderation"]  # noqa: RUF012 - Litestar reads it as a class attribute
    guards = [admin_only]  # noqa: RUF012

    @post(
        "/v1/players/{player_id:str}/ban",
        status_code=204,
        summary="Ban a player (admin): hidden on every board, sessions ended, scores refused",
        operation_id="banPlayer",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(400, 401, 403, 404, 413, 503, notes={404: "No such player."}),
    )
    async def ban(
        self,
        request: Request[Any, Principal, Any],
        player_id: FromPath[str],
        moderation: ModerationDep,
        data: JSONBody[BanRequest | None] = None,
    ) -> None:
        reason = data.reason if data is not None else None
        await moderation.ban(player_id, reason, actor_of(request))

    @delete(
        "/v1/players/{player_id:str}/ban",
        status_code=204,
        summary="Unban a player (admin): their entries come back where they ranked",
        operation_id="unbanPlayer",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(401, 403, 404, 503, notes={404: "No such player."}),
    )
    async def unban(
        self,
        request: Request[Any, Principal, Any],
        player_id: FromPath[str],
        moderation: ModerationDep,
    ) -> None:
        await moderation.unban(player_id, actor_of(request))


# A function, not a method of the controller above: the path is RankingController's too,
# and Litestar 2 registers a second controller on a path with a second OPTIONS handler
# (refused), where a handler function after the controller merges into its route.
@delete(
    "/v1/leaderboards/{board_id:str}/players/{player_id:str}",
    status_code=204,
    guards=[admin_only],
    tags=["leaderboards"],
    summary="Remove one entry (admin); the ranks below it close up",
    description="Publishes an `entry_removed` event. The player may submit again later.",
    operation_id="removeEntry",
    operation_class=ApiOperation,
    security=BEARER,
    responses=errors(400, 401, 403, 404, 503, notes=PLAYER_NOTES),
)
async def remove_entry(
    request: Request[Any, Principal, Any],
    board_id: FromPath[str],
    player_id: FromPath[str],
    moderation: ModerationDep,
    period: PeriodQuery = None,
    span: SpanQuery = None,
) -> None:
    await moderation.remove_entry(board_id, player_id, period, actor_of(request), span)
