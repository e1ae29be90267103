"""Device sign-in: the device's player (created on first sight) and a new session.

A known device costs two Redis round trips and no Postgres query: its rate-limit slot
and its directory lookup leave together (one batch of the script pipeline, sent from the
request's own task), then the session is created. A device the
directory does not know (first sight, an expired entry, a tombstone) is read or made in
Postgres, and remembered with the session's round trip (players/devices.py).
"""

from __future__ import annotations

import asyncio
import time

from leaderboard.auth.sessions import SessionStore
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.players.devices import DeviceDirectory, player_in
from leaderboard.players.models import DeviceAuthResponse, check_display_name
from leaderboard.players.repository import device_hash
from leaderboard.players.service import PlayerService
from leaderboard.ratelimit import (
    RateLimitDecision,
    RateLimiter,
    RateLimitPolicy,
    admitted,
    decision_of,
)

AUTH_RATE_SCOPE = "auth"
# A Postgres answer older than this is not remembered: a ban's tombstone (a minute) must
# outlive every fill of a row read before the ban committed.
FILL_DEADLINE_SECONDS = 10.0


class DeviceSignIn:
    def __init__(
        self,
        players: PlayerService,
        sessions: SessionStore,
        limiter: RateLimiter,
        policy: RateLimitPolicy,
        devices: DeviceDirectory,
        pipeline: ScriptPipeline,
    ) -> None:
        self._players = players
        self._sessions = sessions
        self._limiter = limiter
        self._policy = policy
        self._devices = devices
        self._pipeline = pipeline

    async def sign_in(
        self, client_address: str, device_id: str, display_name: str | None
    ) -> tuple[DeviceAuthResponse, dict[str, str]]:
        """Sign a device in, throttled per client address; the answer and rate headers."""
        if display_name is not None:
            # Checked even for a known device: the same request must not be accepted or
            # refused depending on whether the device is known.
            check_display_name(display_name)
        digest = device_hash(device_id)
        decision, player_id = await self._admit_and_look_up(client_address, digest)
        created = False
        if player_id is not None:
            session = await self._sessions.create(player_id)
        else:
            read_at = time.monotonic()
            profile, created = await self._players.register_device(device_id, display_name)
            player_id = profile.player_id
            if time.monotonic() - read_at < FILL_DEADLINE_SECONDS:
                session, _ = await asyncio.gather(
                    self._sessions.create(player_id), self._devices.remember(digest, player_id)
                )
            else:
                session = await self._sessions.create(player_id)
        answer = DeviceAuthResponse(
            player_id=player_id,
            token=session.token,
            expires_at=session.expires_at,
            created=created,
        )
        return answer, decision.headers()

    async def _admit_and_look_up(
        self, client_address: str, digest: bytes
    ) -> tuple[RateLimitDecision, str | None]:
        """The rate-limit slot and the directory's answer, in one round trip."""
        lookup = self._devices.lookup_call(digest)
        if lookup is None:  # the directory is off: Postgres is asked anyway
            return await self._limiter.check(AUTH_RATE_SCOPE, client_address, self._policy), None
        take_slot = self._limiter.call(AUTH_RATE_SCOPE, client_address, self._policy)
        slot, found = await self._pipeline.together(take_slot, lookup)
        if isinstance(slot, BaseException):
            raise slot  # Redis failed: whatever the lookup said
        decision = admitted(self._policy, decision_of(self._policy, slot))  # or 429
        if isinstance(found, BaseException):
            raise found
        return decision, player_in(found)
