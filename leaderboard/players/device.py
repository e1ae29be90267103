"""Device sign-in: the device's player (created on first sight) and a new session."""

from __future__ import annotations

from leaderboard.auth.sessions import SessionStore
from leaderboard.players.models import DeviceAuthResponse
from leaderboard.players.service import PlayerService
from leaderboard.ratelimit import RateLimiter, RateLimitPolicy

AUTH_RATE_SCOPE = "auth"


class DeviceSignIn:
    def __init__(
        self,
        players: PlayerService,
        sessions: SessionStore,
        limiter: RateLimiter,
        policy: RateLimitPolicy,
    ) -> None:
        self._players = players
        self._sessions = sessions
        self._limiter = limiter
        self._policy = policy

    async def sign_in(
        self, client_address: str, device_id: str, display_name: str | None
    ) -> tuple[DeviceAuthResponse, dict[str, str]]:
        """Sign a device in, throttled per client address; the answer and rate headers."""
        decision = await self._limiter.check(AUTH_RATE_SCOPE, client_address, self._policy)
        profile, created = await self._players.register_device(device_id, display_name)
        session = await self._sessions.create(profile.player_id)
        answer = DeviceAuthResponse(
            player_id=profile.player_id,
            token=session.token,
            expires_at=session.expires_at,
            created=created,
        )
        return answer, decision.headers()
