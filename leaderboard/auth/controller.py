"""``POST /v1/auth/device`` and ``DELETE /v1/auth/session``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from leaderboard.auth.principal import Principal
from leaderboard.players.models import DeviceAuthRequest, DeviceAuthResponse
from leaderboard.plugin import LimiterDep, ProfilesDep, SessionsDep, SettingsDep
from leaderboard.ratelimit import RateLimitPolicy

AUTH_RATE_SCOPE = "auth"


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
    )
    async def device(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[DeviceAuthRequest],
        profiles: ProfilesDep,
        limiter: LimiterDep,
        settings: SettingsDep,
    ) -> Response[DeviceAuthResponse]:
        policy = RateLimitPolicy(
            limit=settings.auth_rate_limit, window_seconds=settings.auth_rate_window_seconds
        )
        client = request.client.host if request.client else "unknown"
        decision = await limiter.check(AUTH_RATE_SCOPE, client, policy)
        profile, session, created = await profiles.sign_in_device(data.device_id, data.display_name)
        body = DeviceAuthResponse(
            player_id=profile.player_id,
            token=session.token,
            expires_at=session.expires_at,
            created=created,
        )
        return Response(body, headers=decision.headers())

    @delete("/session", status_code=204, summary="End the calling session at once")
    async def end_session(
        self, principal: NamedDependency[Principal], sessions: SessionsDep
    ) -> None:
        principal.require_player()
        await sessions.end(principal.token)
