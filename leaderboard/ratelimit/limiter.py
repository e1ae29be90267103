"""A per-subject rate limiter: a sliding-window log in Redis, decided by one Lua script.

Each (scope, subject) pair has a sorted set of the times of its accepted calls
(:meth:`leaderboard.lib.keys.Keys.rate_limit`). ``sliding_window.lua``, beside this module,
counts the calls of the last ``window_seconds``, and accepts and records the call only when
fewer than ``limit`` are there, in one atomic step on the Redis server, with the server's
clock. So the limit holds exactly across every worker and instance of the service, in any
window of ``window_seconds``. docs/rate-limiting.md explains the choice and the headers.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from leaderboard.lib.errors import RateLimitedError
from leaderboard.lib.keys import Keys
from leaderboard.lib.scripts import LuaScript, ScriptCall, ScriptPipeline

SLIDING_WINDOW = LuaScript.load(__package__, "limit.lua", prelude=["sliding_window.lua"])


class RateLimitPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """At most ``limit`` accepted calls in any window of ``window_seconds``.

    The caps keep a subject's log small (at most ``limit`` members) and its key short-lived.
    """

    limit: Annotated[int, Meta(ge=1, le=10_000)]
    window_seconds: Annotated[int, Meta(ge=1, le=86_400)]


class RateLimitDecision(msgspec.Struct, frozen=True, kw_only=True):
    """What the limiter decided for one call, with the numbers for the response headers.

    All times are whole seconds rounded up, so a client that waits as long as it is told
    never comes back too early.
    """

    allowed: bool
    """True when the call was accepted (and recorded); False when it was rejected."""
    limit: int
    """The policy's ``limit``."""
    remaining: int
    """Calls still accepted right now, after this one; 0 when rejected."""
    reset_seconds: int
    """Seconds until the oldest counted call leaves the window, so one more call fits than
    now: ``remaining + 1`` calls are accepted after it (if nobody else spends them). Never 0
    after an accepted call (that call itself counts); equal to ``retry_after_seconds`` when
    rejected."""
    retry_after_seconds: int
    """0 when allowed; else seconds (>= 1) after which a call is accepted."""

    def headers(self) -> dict[str, str]:
        """The ``RateLimit-*`` headers, and ``Retry-After`` when the call was rejected."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


def _ceil_seconds(milliseconds: int) -> int:
    return -(-milliseconds // 1000)


class RateLimiter:
    """Decides and records calls against :class:`RateLimitPolicy` limits; one per worker.

    Redis errors (connection refused, timeouts) propagate unchanged: without Redis no call
    is allowed (the app answers 503), so an outage never lifts a limit.
    """

    def __init__(self, pipeline: ScriptPipeline, keys: Keys) -> None:
        self._keys = keys
        # Concurrent calls share one pipeline of EVALSHAs (the source is loaded on NOSCRIPT).
        self._script = pipeline.bind(SLIDING_WINDOW)

    async def hit(self, scope: str, subject: str, policy: RateLimitPolicy) -> RateLimitDecision:
        """Count one call of ``subject`` under ``scope``: accept and record it, or reject it.

        One Redis round trip (EVALSHA). A rejected call records nothing, so a client that
        keeps calling while rejected does not push its own reset further away.

        Args:
            scope: the policy's name, for example ``auth`` or ``scores:<board id>``; it
                must not contain ``{`` or ``}`` (the subject is the key's hash tag).
            subject: who is limited: a player id, a client address.
            policy: the limit and its window.

        Raises:
            ValueError: ``scope`` contains a brace.
            redis.exceptions.RedisError: Redis failed; nothing is known to be recorded.

        """
        reply = await self._script([self.key(scope, subject)], slot_args(policy))
        return decision_of(policy, reply)

    def call(self, scope: str, subject: str, policy: RateLimitPolicy) -> ScriptCall:
        """:meth:`hit`'s script call, to send with others (``ScriptPipeline.together``).

        Its reply becomes a decision with :func:`decision_of`.

        Raises:
            ValueError: ``scope`` contains a brace.

        """
        return self._script.call([self.key(scope, subject)], slot_args(policy))

    def key(self, scope: str, subject: str) -> str:
        """The subject's log (``subject`` is its hash tag: a script may add its own keys).

        Raises:
            ValueError: ``scope`` contains a brace.

        """
        if "{" in scope or "}" in scope:
            # With braces in the scope two (scope, subject) pairs could share a key.
            raise ValueError(f"rate-limit scope must not contain braces: {scope!r}")
        return self._keys.rate_limit(scope, subject)

    async def check(self, scope: str, subject: str, policy: RateLimitPolicy) -> RateLimitDecision:
        """Like :meth:`hit`, but a rejected call raises instead of returning.

        Raises:
            RateLimitedError: the call was rejected; its ``headers`` are the decision's
                (``RateLimit-*`` and ``Retry-After``), for the 429 response.
            redis.exceptions.RedisError: as for :meth:`hit`.

        """
        return admitted(policy, await self.hit(scope, subject, policy))


def slot_args(policy: RateLimitPolicy) -> list[int | str]:
    """take_slot()'s arguments after the key (sliding_window.lua), for scripts that call it."""
    return [policy.limit, policy.window_seconds * 1000, secrets.token_hex(8)]


def decision_of(policy: RateLimitPolicy, reply: list[Any]) -> RateLimitDecision:
    """What take_slot()'s reply says."""
    allowed, remaining, retry_after_ms, reset_ms = (int(value) for value in reply)
    return RateLimitDecision(
        allowed=allowed == 1,
        limit=policy.limit,
        remaining=remaining,
        reset_seconds=_ceil_seconds(reset_ms),
        retry_after_seconds=_ceil_seconds(retry_after_ms),
    )


def admitted(policy: RateLimitPolicy, decision: RateLimitDecision) -> RateLimitDecision:
    """The decision, if it allowed the call.

    Raises:
        RateLimitedError: it did not; its ``headers`` are the decision's (``RateLimit-*``
            and ``Retry-After``), for the 429 response.

    """
    if not decision.allowed:
        raise RateLimitedError(
            f"rate limit exceeded: {policy.limit} calls per {policy.window_seconds} s; "
            f"retry in {decision.retry_after_seconds} s",
            decision.headers(),
        )
    return decision
