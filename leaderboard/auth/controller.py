"""``DELETE /v1/auth/session`` (signing in: players/device_controller.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete

from leaderboard.auth.deps import SessionsDep
from leaderboard.auth.guards import player_only
from leaderboard.auth.principal import Principal
from leaderboard.lib.openapi import BEARER, ApiOperation, errors


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["auth"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @delete(
        "/session",
        status_code=204,
        summary="End the calling session at once",
        guards=[player_only],
        operation_id="endSession",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(401, 403, 503, notes={403: "Only a player's session can end."}),
    )
    async def end_session(
        self, request: Request[Any, Principal, Any], sessions: SessionsDep
    ) -> None:
        await sessions.end(request.auth.token)
