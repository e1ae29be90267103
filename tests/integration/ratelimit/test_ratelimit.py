"""The rate limiter against a real Redis: exact under concurrency, the window, headers, TTLs.

No mocks and no sleeps to hide races: concurrency is real (several clients, many
connections), and waits are either polls on a condition with a timeout or a wait for the
very moment a response told the client to come back.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import msgspec
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from leaderboard.lib.errors import RateLimitedError
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis, create_redis
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.lib.settings import Settings
from leaderboard.ratelimit import RateLimitDecision, RateLimiter, RateLimitPolicy
from tests.conftest import CLUSTER, raw_redis
from tests.helpers import async_wait_until

pytestmark = pytest.mark.redis_modes

US = 1_000_000


@pytest.fixture
def keys(redis_key_prefix: str) -> Keys:
    return Keys(redis_key_prefix)


@pytest.fixture
def limiter(redis: AnyRedis, keys: Keys) -> RateLimiter:
    return RateLimiter(ScriptPipeline(redis), keys)


@pytest.fixture
async def other_clients(redis_url: str, redis_mode: str) -> AsyncIterator[list[AnyRedis]]:
    """Two clients of their own, as two app instances would have."""
    clients = [await raw_redis(redis_url, cluster=redis_mode == CLUSTER) for _ in range(2)]
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()


def new_subject() -> str:
    return uuid.uuid4().hex


async def redis_time_us(client: AnyRedis) -> int:
    seconds, micros = await client.time()
    return int(seconds) * US + int(micros)


async def log_scores(client: AnyRedis, key: str) -> dict[str, int]:
    """The subject's log: member -> Redis time (µs) of the accepted call."""
    # RESP2 with decode_responses: (member, score) pairs of str and float.
    entries = cast("list[tuple[str, float]]", await client.zrange(key, 0, -1, withscores=True))
    return {member: int(score) for member, score in entries}


async def test_concurrent_hits_from_two_instances_accept_exactly_the_limit(
    redis: AnyRedis, other_clients: list[AnyRedis], keys: Keys
) -> None:
    policy = RateLimitPolicy(limit=10, window_seconds=60)
    limiters = [RateLimiter(ScriptPipeline(client), keys) for client in other_clients]
    for _ in range(20):
        subject = new_subject()
        decisions = await asyncio.gather(
            *(limiters[i % 2].hit("exact", subject, policy) for i in range(50))
        )
        accepted = [d for d in decisions if d.allowed]
        rejected = [d for d in decisions if not d.allowed]
        assert len(accepted) == 10
        # Each accepted call saw a different count: the decisions were serialised.
        assert sorted(d.remaining for d in accepted) == list(range(10))
        assert all(d.remaining == 0 and d.retry_after_seconds >= 1 for d in rejected)
        assert await redis.zcard(keys.rate_limit("exact", subject)) == 10


async def test_a_call_after_the_window_is_accepted(
    redis: AnyRedis, limiter: RateLimiter, keys: Keys
) -> None:
    policy = RateLimitPolicy(limit=3, window_seconds=1)
    subject = new_subject()
    key = keys.rate_limit("window", subject)
    for _ in range(3):
        assert (await limiter.hit("window", subject, policy)).allowed
    first_accepted_us = min((await log_scores(redis, key)).values())
    rejected_at = time.monotonic()
    rejected = await limiter.hit("window", subject, policy)
    assert not rejected.allowed
    assert rejected.retry_after_seconds == 1

    async def accepted() -> bool:
        return (await limiter.hit("window", subject, policy)).allowed

    await async_wait_until(accepted, timeout=5, what="the window to pass")
    waited = time.monotonic() - rejected_at
    # Retry-After is rounded up to whole seconds; the calls before the rejection took a
    # few milliseconds of the window.
    assert waited >= rejected.retry_after_seconds - 0.1
    # Exactly: the call accepted last came a full window after the first one.
    newest_us = max((await log_scores(redis, key)).values())
    assert newest_us - first_accepted_us >= policy.window_seconds * US


async def test_continuous_calls_never_exceed_the_limit_in_any_window(
    redis: AnyRedis, limiter: RateLimiter, keys: Keys
) -> None:
    policy = RateLimitPolicy(limit=5, window_seconds=1)
    subject = new_subject()
    key = keys.rate_limit("straddle", subject)
    accepted: dict[str, int] = {}
    deadline = time.monotonic() + 2.5

    async def caller() -> None:
        while time.monotonic() < deadline:
            if (await limiter.hit("straddle", subject, policy)).allowed:
                # The log still holds this call (only a call a window later trims it):
                # read it to learn the call's Redis time.
                accepted.update(await log_scores(redis, key))

    await asyncio.gather(*(caller() for _ in range(4)))
    times = sorted(accepted.values())
    # The calls ran across at least two window boundaries and the limiter reopened.
    assert len(times) >= 2 * policy.limit + 1
    window_us = policy.window_seconds * US
    for first, after_limit in zip(times, times[policy.limit :], strict=False):
        # limit + 1 consecutive accepted calls never fit in one window.
        assert after_limit - first >= window_us


def header_ints(decision: RateLimitDecision) -> dict[str, int]:
    return {name: int(value) for name, value in decision.headers().items()}


async def test_headers_count_down_and_tell_the_truth_about_retrying(
    redis: AnyRedis, limiter: RateLimiter, keys: Keys
) -> None:
    policy = RateLimitPolicy(limit=4, window_seconds=2)
    subject = new_subject()
    key = keys.rate_limit("headers", subject)
    last_accepted = None
    for expected_remaining in (3, 2, 1, 0):
        last_accepted = await limiter.hit("headers", subject, policy)
        headers = header_ints(last_accepted)
        assert headers.keys() == {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
        assert headers["RateLimit-Limit"] == 4
        assert headers["RateLimit-Remaining"] == expected_remaining
        assert 1 <= headers["RateLimit-Reset"] <= policy.window_seconds
        assert last_accepted.retry_after_seconds == 0
    assert last_accepted is not None
    last_accepted_at = time.monotonic()

    before_us = await redis_time_us(redis)
    rejected = await limiter.hit("headers", subject, policy)
    after_us = await redis_time_us(redis)
    rejected_at = time.monotonic()
    headers = header_ints(rejected)
    assert headers["RateLimit-Remaining"] == 0
    retry_after = headers["Retry-After"]
    assert 1 <= retry_after <= policy.window_seconds
    assert headers["RateLimit-Reset"] == retry_after

    # Against the log: a slot frees when the oldest call leaves the window.
    frees_at_us = min((await log_scores(redis, key)).values()) + policy.window_seconds * US
    assert after_us + retry_after * US >= frees_at_us  # not too early
    assert retry_after <= -(-(frees_at_us - before_us) // US)  # not later than rounding needs

    # The next call right away agrees: still rejected, no later retry.
    again = await limiter.hit("headers", subject, policy)
    assert not again.allowed
    assert again.retry_after_seconds <= retry_after

    with pytest.raises(RateLimitedError) as raised:
        await limiter.check("headers", subject, policy)
    assert raised.value.headers["Retry-After"] in {"1", "2"}
    assert raised.value.detail.startswith("rate limit exceeded: 4 calls per 2 s; retry in ")

    # Come back exactly when told (both by the last accepted call's Reset, given with
    # Remaining 0, and by the rejection's Retry-After): accepted.
    come_back_at = max(last_accepted_at + last_accepted.reset_seconds, rejected_at + retry_after)
    await asyncio.sleep(come_back_at - time.monotonic())
    decision = await limiter.check("headers", subject, policy)
    assert decision.allowed


async def test_a_lowered_limit_waits_for_enough_calls_to_leave(
    redis: AnyRedis, limiter: RateLimiter
) -> None:
    subject = new_subject()
    for _ in range(5):
        assert (
            await limiter.hit("lowered", subject, RateLimitPolicy(limit=5, window_seconds=60))
        ).allowed
    decision = await limiter.hit("lowered", subject, RateLimitPolicy(limit=2, window_seconds=60))
    assert not decision.allowed
    # Four of the five calls must leave the window, all made within the last moments.
    assert decision.retry_after_seconds == 60
    assert decision.reset_seconds == 60


async def test_every_limiter_key_has_a_ttl_within_its_window(
    redis: AnyRedis, limiter: RateLimiter, keys: Keys
) -> None:
    policy = RateLimitPolicy(limit=7, window_seconds=30)
    subjects = [new_subject() for _ in range(100)]
    decisions: list[RateLimitDecision] = []
    for batch in range(20):
        decisions += await asyncio.gather(
            *(limiter.hit("ttl", subjects[(batch * 50 + i) % 100], policy) for i in range(50))
        )
    assert len(decisions) == 1000
    assert sum(d.allowed for d in decisions) == 700

    found = [key async for key in redis.scan_iter(match=keys.pattern(), count=500)]
    assert sorted(found) == sorted(keys.rate_limit("ttl", subject) for subject in subjects)
    async with redis.pipeline(transaction=False) as pipe:
        for key in found:
            pipe.pttl(key)
        ttls: list[int] = await pipe.execute()
    assert all(0 < ttl <= policy.window_seconds * 1000 for ttl in ttls), ttls


async def test_a_rejected_call_records_nothing(
    redis: AnyRedis, limiter: RateLimiter, keys: Keys
) -> None:
    policy = RateLimitPolicy(limit=3, window_seconds=60)
    subject = new_subject()
    key = keys.rate_limit("rejected", subject)
    for _ in range(3):
        assert (await limiter.hit("rejected", subject, policy)).allowed
    log_before = await log_scores(redis, key)
    ttl_before = await redis.pttl(key)
    for _ in range(5):
        assert not (await limiter.hit("rejected", subject, policy)).allowed
    assert await log_scores(redis, key) == log_before
    assert await redis.zcard(key) == 3
    assert 0 < await redis.pttl(key) <= ttl_before


async def test_redis_down_fails_closed(redis: AnyRedis, keys: Keys, redis_mode: str) -> None:
    unreachable = Settings(redis_timeout=1.0, redis_cluster=redis_mode == CLUSTER)
    client = create_redis(unreachable, "redis://127.0.0.1:1/0")
    try:
        limiter = RateLimiter(ScriptPipeline(client), keys)
        policy = RateLimitPolicy(limit=10, window_seconds=60)
        with pytest.raises(RedisConnectionError):
            await limiter.hit("down", new_subject(), policy)
        with pytest.raises(RedisConnectionError):
            await limiter.check("down", new_subject(), policy)
    finally:
        await client.aclose()


async def test_a_scope_with_braces_is_refused(redis: AnyRedis, limiter: RateLimiter) -> None:
    policy = RateLimitPolicy(limit=1, window_seconds=1)
    with pytest.raises(ValueError, match="braces"):
        await limiter.hit("scores:{x}", new_subject(), policy)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"limit": 0, "window_seconds": 60}, "limit"),
        ({"limit": -1, "window_seconds": 60}, "limit"),
        ({"limit": 10_001, "window_seconds": 60}, "limit"),
        ({"limit": 10**30, "window_seconds": 60}, "limit"),
        ({"limit": "10", "window_seconds": 60}, "limit"),
        ({"limit": 1.5, "window_seconds": 60}, "limit"),
        ({"limit": 10, "window_seconds": 0}, "window_seconds"),
        ({"limit": 10, "window_seconds": 86_401}, "window_seconds"),
        ({"limit": 10, "window_seconds": 10**30}, "window_seconds"),
        ({"limit": 10, "window_seconds": "60"}, "window_seconds"),
        ({"limit": 10}, "window_seconds"),
        ({"limit": 10, "window_seconds": 60, "burst": 5}, "burst"),
    ],
)
def test_policy_validation_names_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=f"`(\\$\\.)?{field}`"):
        msgspec.convert(raw, RateLimitPolicy)


def test_policy_accepts_the_bounds() -> None:
    for limit, window in ((1, 1), (10_000, 86_400)):
        policy = msgspec.convert({"limit": limit, "window_seconds": window}, RateLimitPolicy)
        assert (policy.limit, policy.window_seconds) == (limit, window)
