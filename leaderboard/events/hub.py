"""One Redis subscription per worker, shared by every WebSocket and SSE client.

The hub holds a single pub/sub connection with pattern subscriptions to every board's
and every league's events channel (a :class:`~leaderboard.events.topics.Topic` each) and
hands each message to the local subscribers of that topic.
Each subscriber has a bounded backlog: a client that reads too slowly loses its oldest
events (and is told how many), so a stuck client never grows the worker's memory.

Pub/sub connections die with their Redis; the hub reconnects by itself (backoff from
0.1 s up to 1 s), so events flow again within a second or two of Redis coming back.
Pub/sub itself delivers nothing that was published while the hub was not subscribed, so
after a reconnect the hub reads what its topics' event streams gained since the last
event it saw, and delivers that first.

It also counts what clients hold: ``leaderboard_event_subscribers`` is the number of
subscriptions in the hub, and ``open_stream`` caps the streams of one client address.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
from redis import exceptions as redis_exceptions

from leaderboard.events.models import event_from_stream
from leaderboard.events.streams import ClientStreams, EventStream
from leaderboard.events.subscription import HubClosedError, Subscription
from leaderboard.events.topics import Topic, board_topic, channel_patterns
from leaderboard.lib.errors import InvalidInputError
from leaderboard.lib.keys import Keys
from leaderboard.lib.metrics import EVENT_SUBSCRIBERS
from leaderboard.lib.pubsub import close_quietly, next_message, subscribe, unsubscribe
from leaderboard.lib.redis_client import (
    REDIS_OUTAGE_ERRORS,
    AnyRedis,
    cluster_nodes,
    create_subscriber,
    initialize,
)
from leaderboard.lib.settings import Settings

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0

__all__ = [
    "HEARTBEAT_SECONDS",
    "EventHub",
    "EventStream",
    "HubClosedError",
    "Subscription",
    "Topic",
]


# Raises NotFoundError for a board that does not exist (the boards feature's lookup).
BoardLookup = Callable[[str], Awaitable[object]]


class EventHub:
    def __init__(
        self, settings: Settings, keys: Keys, redis: AnyRedis, board_lookup: BoardLookup
    ) -> None:
        assert settings.redis_url is not None
        self._url = settings.redis_url
        self._settings = settings
        self._keys = keys
        self._redis = redis
        self._board_lookup = board_lookup
        self._subscribers: dict[str, set[Subscription]] = {}  # channel → its subscriptions
        self._topics: dict[str, Topic] = {}  # channel → its topic, while it has subscribers
        self._task: asyncio.Task[None] | None = None
        self._last_ids: dict[str, str] = {}  # channel → id of the last event delivered
        self._sharded_live: set[str] = set()  # cluster mode: channels subscribed
        self._streams = ClientStreams(settings.events_max_streams_per_client)
        self._closed = False
        self.connected = asyncio.Event()

    async def check_board(self, board_id: str) -> None:
        """NotFoundError unless ``board_id`` is a board (events of nothing are refused)."""
        await self._board_lookup(board_id)

    def board(self, board_id: str) -> Topic:
        """The topic of a board's events."""
        return board_topic(self._keys, board_id)

    async def replay(self, topic: Topic, after_id: str) -> list[tuple[str, str]]:
        """The events a topic's stream kept after ``after_id``: (id, message) pairs.

        Raises:
            InvalidInputError: ``after_id`` is not an id of that stream (``Last-Event-ID``).

        """
        try:
            entries: list[tuple[str, dict[str, str]]] = await self._redis.xrange(  # type: ignore[assignment]
                topic.stream, min=f"({after_id}", count=self._settings.events_stream_length
            )
        except redis_exceptions.ResponseError:
            noun = "board" if topic.kind == "leaderboard" else topic.kind
            raise InvalidInputError("Last-Event-ID", f"not an event id of this {noun}") from None
        return [(entry_id, event_from_stream(entry_id, fields)) for entry_id, fields in entries]

    def open_stream(self, topic: Topic, client: str) -> EventStream:
        """A client's stream of a topic: one of its address's slots and a subscription.

        The caller releases it when the stream ends (see streams.py).

        Raises:
            RateLimitedError: ``client`` holds ``events_max_streams_per_client`` already.

        """
        self._streams.acquire(client)
        try:
            subscription = self.subscribe(topic)
        except BaseException:
            self._streams.release(client)
            raise
        return EventStream(subscription, self._streams, client)

    def streams_held(self, client: str) -> int:
        """Streams ``client`` holds open in this worker now."""
        return self._streams.held(client)

    def subscribe(self, topic: Topic) -> Subscription:
        subscription = Subscription(topic, self._settings.events_client_backlog, self.unsubscribe)
        if self._closed:
            # Shutting down: the stream ends at once, and no new Redis connection is made.
            subscription.close()
            return subscription
        self._topics[topic.channel] = topic
        self._subscribers.setdefault(topic.channel, set()).add(subscription)
        EVENT_SUBSCRIBERS.inc()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="event-hub")
        return subscription

    @property
    def subscribers(self) -> int:
        """Subscriptions held in this hub now."""
        return sum(len(subscribers) for subscribers in self._subscribers.values())

    async def wait_connected(self, topic: Topic, timeout: float = 5.0) -> bool:
        """Wait until ``topic``'s events reach this hub (events from then on arrive)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._live(topic):
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def _live(self, topic: Topic) -> bool:
        if self._settings.redis_cluster:
            return topic.channel in self._sharded_live
        return self.connected.is_set()

    def unsubscribe(self, subscription: Subscription) -> None:
        channel = subscription.topic.channel
        subscribers = self._subscribers.get(channel)
        if subscribers is None or subscription not in subscribers:
            return  # released before, or dropped by close()
        subscribers.remove(subscription)
        EVENT_SUBSCRIBERS.dec()
        if not subscribers:
            del self._subscribers[channel]
            self._topics.pop(channel, None)

    async def close(self) -> None:
        """End every subscription (clients see the stream end) and the Redis connection."""
        self._closed = True
        subscribers, self._subscribers = self._subscribers, {}
        self._topics = {}
        for topic_subscribers in subscribers.values():
            for subscription in topic_subscribers:
                subscription.close()
            # Nothing is delivered to them any more: they no longer count, whether or not
            # their streams get to release them.
            EVENT_SUBSCRIBERS.dec(len(topic_subscribers))
        if self._task is not None:
            self._task.cancel()
            # Bounded: a task cancelled mid-connect must not hold the shutdown up.
            await asyncio.wait({self._task}, timeout=2.0)
            self._task = None

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                listen = self._listen_sharded if self._settings.redis_cluster else self._listen
                async for channel, data in listen():
                    delay = 0.1
                    self._dispatch(channel, data)
            except asyncio.CancelledError:
                raise
            except REDIS_OUTAGE_ERRORS as exc:
                logger.warning("event subscription lost (%s); reconnecting", exc)
            except Exception:
                logger.exception("event subscription failed; reconnecting")
            self.connected.clear()
            self._sharded_live.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def _listen(self) -> AsyncIterator[tuple[str, str]]:
        """Single node: pattern subscriptions to every board's and league's channel."""
        client = create_subscriber(self._settings, self._url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(*channel_patterns(self._keys))
            # Subscribed: now catch up on what was published while we were not.
            for channel in list(self._last_ids):
                await self._catch_up(client, channel)
            self.connected.set()
            while True:
                message = await next_message(pubsub, sharded=False, timeout=1.0)
                if message is not None:
                    yield message
        finally:
            await close_quietly(pubsub, client)

    async def _listen_sharded(self) -> AsyncIterator[tuple[str, str]]:
        """Cluster mode: one SSUBSCRIBE per watched topic (sharded pub/sub has no patterns).

        The set of channels follows the topics local clients watch, checked between
        messages; a topic's first client waits (wait_connected) until its channel is in.
        """
        # The worker's client knows every node: the URL's may be the master that died.
        client = create_subscriber(
            self._settings, self._url, known_nodes=cluster_nodes(self._redis)
        )
        pubsub = client.pubsub()
        subscribed: set[str] = set()
        try:
            await initialize(client)
            self.connected.set()
            while True:
                wanted = set(self._subscribers)
                for channel in subscribed - wanted:
                    await unsubscribe(pubsub, channel, sharded=True)
                    subscribed.discard(channel)
                    self._sharded_live.discard(channel)
                for channel in wanted - subscribed:
                    await subscribe(pubsub, channel, sharded=True)
                    subscribed.add(channel)
                    await self._catch_up(client, channel)
                    self._sharded_live.add(channel)
                if not subscribed:
                    await asyncio.sleep(0.05)
                    continue
                message = await next_message(pubsub, sharded=True, timeout=0.05)
                if message is not None:
                    yield message
        finally:
            self._sharded_live.clear()
            await close_quietly(pubsub, client)

    async def _catch_up(self, client: Any, channel: str) -> None:
        """Deliver what a topic's stream gained since the last event this hub delivered."""
        last_id = self._last_ids.get(channel)
        topic = self._topics.get(channel)
        if last_id is None or topic is None:
            return
        entries: list[tuple[str, dict[str, str]]] = await client.xrange(
            topic.stream, min=f"({last_id}"
        )
        for entry_id, fields in entries:
            self._dispatch(channel, event_from_stream(entry_id, fields))

    def _dispatch(self, channel: str, data: str) -> None:
        """Hand a message of ``channel`` to its local subscribers (none: forget the channel)."""
        subscribers = self._subscribers.get(channel)
        if not subscribers:
            self._last_ids.pop(channel, None)
            return
        event_id = msgspec.json.decode(data, type=_EventId).id
        if event_id is not None:
            self._last_ids[channel] = event_id
        for subscription in subscribers:
            subscription.push(data)


class _EventId(msgspec.Struct):
    id: str | None = None
