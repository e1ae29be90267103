"""A submission's one Redis step before the commit (admit.lua).

A keyed repeat is answered with its first answer, or else a slot of the player's rate
limit is taken. Both keys live in the player's slot (lib/keys.py), so this is one script
call on a single node and on a Redis Cluster alike: before it, a keyed submission made
two round trips here (its stored answer, then the limiter), and round trips are what a
worker's CPU is spent on.
"""

from __future__ import annotations

import msgspec

from leaderboard.boards.models import Board
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
    __package__, "admit.lua", prelude=["leaderboard.ratelimit:sliding_window.lua"]
)


class Admission:
    def __init__(
        self, pipeline: ScriptPipeline, limiter: RateLimiter, idempotency: IdempotencyStore
    ) -> None:
        self._admit = pipeline.bind(ADMIT)
        self._limiter = limiter
        self._idempotency = idempotency

    async def admit(
        self, board: Board, player_id: str, key: str | None
    ) -> StoredAnswer | RateLimitDecision:
        """The first answer of a keyed repeat (no slot taken), or the limiter's decision.

        Raises:
            RateLimitedError: over the board's rate limit (nothing recorded).
            redis.exceptions.RedisError: Redis failed; nothing is known to be recorded.

        """
        policy = RateLimitPolicy(
            limit=board.rate_limit.limit, window_seconds=board.rate_limit.window_seconds
        )
        log = self._limiter.key(f"scores:{board.id}", player_id)
        answer = self._idempotency.answer_key(board.id, player_id, key) if key else log
        reply = await self._admit([log, answer], [*slot_args(policy), 1 if key else 0])
        if int(reply[0]) == 0:
            return msgspec.json.decode(reply[1], type=StoredAnswer)
        return admitted(policy, decision_of(policy, reply[1:]))
