"""A submission's one Redis step before the commit (admit.lua).

The caller's session is checked if the worker has not (auth/sessions.py keeps the ones it
checked for a moment); then a keyed repeat is answered with its first answer, or else a
slot of the player's rate limit is taken. Every key lives in the player's slot
(lib/keys.py), so this is one script call on a single node and on a Redis Cluster alike:
before it, a submission made up to three round trips here (its session, its stored
answer, the limiter), and round trips are what a worker's CPU is spent on.
"""

from __future__ import annotations

import msgspec

from leaderboard.auth.principal import SESSION_REFUSED
from leaderboard.auth.sessions import SessionStore, UncheckedSession
from leaderboard.boards.models import Board
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
from leaderboard.scores.idempotency import IdempotencyStore, StoredAnswer

ADMIT = LuaScript.load(
    __package__,
    "admit.lua",
    prelude=["leaderboard.ratelimit:sliding_window.lua", "leaderboard.auth:session_check.lua"],
)


class Admission:
    def __init__(
        self,
        pipeline: ScriptPipeline,
        limiter: RateLimiter,
        idempotency: IdempotencyStore,
        sessions: SessionStore,
    ) -> None:
        self._admit = pipeline.bind(ADMIT)
        self._limiter = limiter
        self._idempotency = idempotency
        self._sessions = sessions

    async def admit(
        self,
        board: Board,
        player_id: str,
        key: str | None,
        session: UncheckedSession | None = None,
    ) -> StoredAnswer | RateLimitDecision:
        """The first answer of a keyed repeat (no slot taken), or the limiter's decision.

        ``session``: the caller's, when the worker has not checked it; checked first.

        Raises:
            AuthenticationError: ``session`` is not a live session of ``player_id``
                (nothing read or taken).
            RateLimitedError: over the board's rate limit (nothing recorded).
            redis.exceptions.RedisError: Redis failed; nothing is known to be recorded.

        """
        policy = RateLimitPolicy(
            limit=board.rate_limit.limit, window_seconds=board.rate_limit.window_seconds
        )
        log = self._limiter.key(f"scores:{board.id}", player_id)
        answer = self._idempotency.answer_key(board.id, player_id, key) if key else log
        keys, args = [log, answer], [*slot_args(policy), 1 if key else 0]
        if session is not None:
            session_key, check_args = self._sessions.check_call(session)
            keys.append(session_key)
            args.extend(check_args)
        reply = await self._admit(keys, args)
        outcome = int(reply[0])
        if session is not None:
            self._sessions.checked(session, None if outcome < 0 else int(reply[1]))
        if outcome < 0:
            raise AuthenticationError(SESSION_REFUSED)
        if outcome == 0:
            return msgspec.json.decode(reply[2], type=StoredAnswer)
        return admitted(policy, decision_of(policy, reply[2:]))
