"""Pub/sub plumbing shared by the event hub, `leaderboard watch` and cache invalidations.

On a single node, channels are plain pub/sub (SUBSCRIBE / PSUBSCRIBE); on a Redis
Cluster the score script publishes with SPUBLISH, so subscribers use SSUBSCRIBE, which
has no patterns. These helpers hide that difference, and turn a sharded subscription
that the server ended (its slot moved) into a lost connection, which callers handle.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import redis.exceptions

from leaderboard.lib.redis_client import AnyRedis, close_redis

_DATA_TYPES = {"message", "pmessage", "smessage"}
_CONFIRMATIONS = {"subscribe", "ssubscribe"}


async def subscribe(pubsub: Any, channel: str, *, sharded: bool) -> None:
    if sharded:
        await pubsub.ssubscribe(channel)
    else:
        await pubsub.subscribe(channel)


async def unsubscribe(pubsub: Any, channel: str, *, sharded: bool) -> None:
    if sharded:
        await pubsub.sunsubscribe(channel)
    else:
        await pubsub.unsubscribe(channel)


class ShardChannelMovedError(redis.exceptions.ConnectionError):
    """The server ended a sharded subscription: the channel's slot has another master now.

    A failover by hand (or by a managed service's maintenance) or resharding moves a
    slot while its old master stays up; that master then unsubscribes the channel's
    subscribers (``sunsubscribe``), and redis-py subscribes again only if its client
    happens to reload the slot map. For the caller it is a lost connection: subscribe
    again, on a fresh client.
    """


async def next_message(pubsub: Any, *, sharded: bool, timeout: float) -> tuple[str, str] | None:
    """The next published (channel, data), or None when ``timeout`` passed without one.

    Raises:
        ShardChannelMovedError: the server ended a sharded subscription we still hold.

    """
    if sharded:
        message = await pubsub.get_sharded_message(timeout=timeout)
        # Our own SUNSUBSCRIBE's confirmation has dropped the channel from the pubsub's
        # channels by now; one the server sent has not.
        if (
            message is not None
            and message["type"] == "sunsubscribe"
            and message["channel"] in pubsub.shard_channels
        ):
            raise ShardChannelMovedError(
                f"the server ended the subscription to {message['channel']}"
            )
    else:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
    if message is None or message["type"] not in _DATA_TYPES:
        return None
    return message["channel"], message["data"]


async def confirmed(pubsub: Any, *, sharded: bool, timeout: float) -> None:
    """Wait for Redis's reply to (S)SUBSCRIBE: from then on every publish reaches us.

    Raises:
        redis.exceptions.TimeoutError: no confirmation within ``timeout`` (an outage, as
            far as the caller is concerned: it reconnects and subscribes again).

    """
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if sharded:
            message = await pubsub.get_sharded_message(timeout=left)
        else:
            message = await pubsub.get_message(timeout=left)
        if message is not None and message["type"] in _CONFIRMATIONS:
            return
    raise redis.exceptions.TimeoutError("Redis did not confirm the subscription")


async def close_quietly(*resources: Any) -> None:
    """Close pub/sub objects and clients on the way out, without waiting on a dead peer."""
    for resource in resources:
        closing = close_redis(resource) if isinstance(resource, AnyRedis) else resource.aclose()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(closing, 1.0)
