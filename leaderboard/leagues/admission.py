"""A league submission's one Redis step before the commit: session and rate limit.

As a board submission's admission (scores/admission.py): a player whose session this
worker has not checked has it checked in the same script call that takes the slot of
their rate limit (admit.lua), one round trip instead of two. A submission whose caller is
known (a session the worker checked a moment ago, the admin, a server key) takes the slot
alone.
"""

from __future__ import annotations

from leaderboard.auth.principal import SESSION_REFUSED
from leaderboard.auth.sessions import SessionStore, UncheckedSession
from leaderboard.leagues.models import League
from leaderboard.lib.errors import AuthenticationError
from leaderboard.lib.scripts import LuaScript, ScriptPipeline
from leaderboard.ratelimit import (
    RateLimitDecision,
    RateLimiter,
    RateLimitPolicy,
    admitted,
    decision_of,
    slot_args,
)

ADMIT = LuaScript.load(
    __package__,
    "admit.lua",
    prelude=["leaderboard.ratelimit:sliding_window.lua", "leaderboard.auth:session_check.lua"],
)


class LeagueAdmission:
    def __init__(
        self, pipeline: ScriptPipeline, limiter: RateLimiter, sessions: SessionStore
    ) -> None:
        self._admit = pipeline.bind(ADMIT)
        self._limiter = limiter
        self._sessions = sessions

    async def admit(
        self, league: League, player_id: str, session: UncheckedSession | None = None
    ) -> RateLimitDecision:
        """The limiter's decision for one submission of ``player_id`` to ``league``.

        ``session``: the caller's, when the worker has not checked it; checked first.

        Raises:
            AuthenticationError: ``session`` is not a live session of ``player_id``
                (nothing taken).
            RateLimitedError: over the league's rate limit (nothing recorded).
            redis.exceptions.RedisError: Redis failed; nothing is known to be recorded.

        """
        policy = RateLimitPolicy(
            limit=league.rate_limit.limit, window_seconds=league.rate_limit.window_seconds
        )
        scope = f"leagues:{league.id}"
        if session is None:
            return await self._limiter.check(scope, player_id, policy)
        session_key, check_args = self._sessions.check_call(session)
        reply = await self._admit(
            [self._limiter.key(scope, player_id), session_key], [*slot_args(policy), *check_args]
        )
        live = int(reply[0]) == 1
        self._sessions.checked(session, int(reply[1]) if live else None)
        if not live:
            raise AuthenticationError(SESSION_REFUSED)
        return admitted(policy, decision_of(policy, reply[2:]))
