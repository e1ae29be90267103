"""Cached copies dropped in every worker before a change is answered.

A worker keeps some configuration in memory for a moment (a board's rules, for two
seconds: boards/service.py), so that its requests need not ask Redis each time.
When a worker changes such a thing, every worker must stop using its copy before the
change is confirmed to the client. Each worker holds one pub/sub subscription to
``keys.invalidations()`` (SSUBSCRIBE on a Redis Cluster: the channel has one hash tag,
so one shard carries it). :meth:`Invalidations.announce` publishes ``{"topic", "key",
"id"}``; every subscribed worker, the announcing one included, runs the topic's
``drop`` and publishes ``{"ack": id}``; the announcer waits for as many
acknowledgements as Redis counted receivers, for at most ``timeout``.

A worker whose subscription broke may have missed announcements: once it is subscribed
again, every topic's ``reset`` runs (all copies dropped). A worker that cannot answer in
time (a stalled event loop) keeps its copy no longer than the copy lives (two seconds
for boards).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from leaderboard.lib.keys import Keys
from leaderboard.lib.pubsub import close_quietly, confirmed, next_message, subscribe
from leaderboard.lib.redis_client import (
    REDIS_OUTAGE_ERRORS,
    AnyRedis,
    create_subscriber,
    initialize,
)
from leaderboard.lib.settings import Settings
from leaderboard.lib.tasks import stop_tasks

logger = logging.getLogger(__name__)

ACK_TIMEOUT_SECONDS = 1.0
SUBSCRIBE_TIMEOUT_SECONDS = 5.0


class _Message(msgspec.Struct, omit_defaults=True):
    topic: str = ""
    key: str = ""
    id: str = ""
    ack: str = ""


@dataclass
class _Topic:
    drop: Callable[[str], None]
    reset: Callable[[], None]


class _Acks:
    """Acknowledgements of one announcement; they may arrive before the count is known."""

    def __init__(self) -> None:
        self.count = 0
        self.expected: int | None = None
        self.done = asyncio.Event()

    def add(self) -> None:
        self.count += 1
        self._check()

    def expect(self, receivers: int) -> None:
        self.expected = receivers
        self._check()

    def _check(self) -> None:
        if self.expected is not None and self.count >= self.expected:
            self.done.set()


class Invalidations:
    """A worker's end of the invalidation channel (see the module doc)."""

    def __init__(
        self,
        settings: Settings,
        keys: Keys,
        redis: AnyRedis,
        *,
        timeout: float = ACK_TIMEOUT_SECONDS,
    ) -> None:
        assert settings.redis_url is not None
        self._settings = settings
        self._url = settings.redis_url
        self._channel = keys.invalidations()
        self._redis = redis
        self._sharded = settings.redis_cluster
        self._timeout = timeout
        self._topics: dict[str, _Topic] = {}
        self._waiting: dict[str, _Acks] = {}
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def register(self, topic: str, drop: Callable[[str], None], reset: Callable[[], None]) -> None:
        """Call ``drop(key)`` on each announcement of ``topic``; ``reset()`` after a gap."""
        self._topics[topic] = _Topic(drop, reset)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="invalidations")

    async def close(self) -> None:
        if self._task is not None:
            await stop_tasks([self._task], timeout=2.0)
            self._task = None
        self.connected.clear()

    async def announce(self, topic: str, key: str) -> tuple[int, int]:
        """Drop ``key`` of ``topic`` in every worker; (workers reached, workers confirmed).

        Raises:
            redis.exceptions.ConnectionError, TimeoutError: Redis did not take the
                announcement (nothing was announced; the caller's change should not stand).

        """
        self._topics[topic].drop(key)  # here at once, whether or not we are subscribed
        announcement = secrets.token_hex(8)
        acks = self._waiting[announcement] = _Acks()
        try:
            receivers = await self._publish(_Message(topic=topic, key=key, id=announcement))
            acks.expect(receivers)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._timeout):
                    await acks.done.wait()
            if acks.count < receivers:
                logger.warning(
                    "%s %r: %d of %d workers confirmed dropping their copy within %g s; "
                    "the others' copies run out by themselves",
                    topic,
                    key,
                    acks.count,
                    receivers,
                    self._timeout,
                )
            return receivers, acks.count
        finally:
            del self._waiting[announcement]

    async def _publish(self, message: _Message) -> int:
        data = msgspec.json.encode(message)
        if self._sharded:
            return int(await self._redis.spublish(self._channel, data))
        return int(await self._redis.publish(self._channel, data))

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except REDIS_OUTAGE_ERRORS as exc:
                logger.warning("invalidation subscription lost (%s); reconnecting", exc)
            except Exception:
                logger.exception("invalidation subscription failed; reconnecting")
            if self.connected.is_set():
                delay = 0.1
            self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def _listen(self) -> None:
        client = create_subscriber(self._settings, self._url)
        pubsub = client.pubsub()
        try:
            await initialize(client)
            await subscribe(pubsub, self._channel, sharded=self._sharded)
            await confirmed(pubsub, sharded=self._sharded, timeout=SUBSCRIBE_TIMEOUT_SECONDS)
            # Announcements made while we were not subscribed were missed: drop it all.
            for topic in self._topics.values():
                topic.reset()
            self.connected.set()
            while True:
                message = await next_message(pubsub, sharded=self._sharded, timeout=1.0)
                if message is not None:
                    await self._handle(message[1])
        finally:
            await close_quietly(pubsub, client)

    async def _handle(self, data: str) -> None:
        try:
            message = msgspec.json.decode(data, type=_Message)
        except msgspec.DecodeError:
            logger.warning("invalidation channel: ignored a message that is not ours")
            return
        if message.ack:
            acks = self._waiting.get(message.ack)
            if acks is not None:
                acks.add()
            return
        if not message.id:
            return  # neither an announcement nor an acknowledgement
        topic = self._topics.get(message.topic)
        if topic is not None:
            topic.drop(message.key)
        # Acknowledged whether or not this worker knows the topic: the announcer counts
        # every receiver.
        await self._publish(_Message(ack=message.id))
