"""``POST /v1/auth/device``: a device signs in as its player (created on first sight).

In players/, not auth/: signing a device in finds or makes a player, so it belongs to
the players' side of the one-way arrow players → auth (auth knows sessions and callers,
not players).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.params import JSONBody

from leaderboard.lib.openapi import RATE_LIMIT_HEADERS, ApiOperation, errors
from leaderboard.players.deps import DeviceSignInDep
from leaderboard.players.models import DeviceAuthRequest, DeviceAuthResponse


class DeviceController(Controller):
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
