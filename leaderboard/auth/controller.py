"""``POST /v1/auth/device`` and ``DELETE /v1/auth/session``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, post
from litestar.params import JSONBody

from leaderboard.auth.deps import DeviceSignInDep, SessionsDep
from leaderboard.auth.guards import player_only
from leaderboard.auth.models import DeviceAuthRequest, DeviceAuthResponse
from leaderboard.auth.principal import Principal
from leaderboard.lib.openapi import BEARER, RATE_LIMIT_HEADERS, ApiOperation, errors


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["auth"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post(
        "/device",
        status_code=200,
        summary="Sign in with a device id; the first call creates the player",
        description=(
            "Returns a bearer token for the player's session. Throttled per client address "
            "(429 with Retry-After and RateLimit-* headers)."
        ),
        operation_id="signInDevice",
        operation_class=ApiOperation,
        response_headers=RATE_LIMIT_HEADERS,
        responses=errors(
            400,
            403,
            413,
            429,
            503,
            notes={
                400: "A display name is refused for control and format characters too.",
                403: "The device's player is banned.",
                429: "Too many sign-ins from this client address.",
            },
        ),
    )
    async def device(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[DeviceAuthRequest],
        device_sign_in: DeviceSignInDep,
    ) -> Response[DeviceAuthResponse]:
        client = request.client.host if request.client else "unknown"
        body, headers = await device_sign_in.sign_in(client, data.device_id, data.display_name)
        return Response(body, headers=headers)

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
