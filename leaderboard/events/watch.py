"""``leaderboard watch``: a board's rank-change events as JSON lines, straight from Redis.

Nothing submitted after the command started is missed, although connecting and
subscribing take a moment: once the subscription is confirmed, the events that the
board's stream recorded since the start are printed first (the stream keeps the last
``LEADERBOARD_EVENTS_STREAM_LENGTH``), then the live ones, each once (by stream id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec
import redis.exceptions

from leaderboard.events.models import Envelope, event_from_stream, stream_id_key
from leaderboard.events.pubsub import close_quietly, next_message, subscribe
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import (
    REDIS_OUTAGE_ERRORS,
    cluster_nodes,
    create_subscriber,
    initialize,
)
from leaderboard.lib.settings import Settings

logger = logging.getLogger(__name__)

_CONFIRMATIONS = {"subscribe", "ssubscribe"}
CONFIRM_TIMEOUT_SECONDS = 10.0


async def watch(
    settings: Settings,
    board_id: str,
    *,
    from_start: bool,
    emit: Callable[[str], None],
    announce: Callable[[str], None] | None = None,
    started: float | None = None,
    stop_after: int | None = None,
) -> None:
    """Print each event of ``board_id`` as one JSON line; reconnect when Redis goes away.

    ``from_start`` first prints every event the board's stream still keeps; otherwise
    the events from ``started`` on (a ``time.monotonic()`` reading: when the command
    began; default now). ``announce`` is told once the subscription is active. After a
    reconnect, events that the stream kept meanwhile are printed too, so a Redis
    restart loses none that it persisted.
    """
    assert settings.redis_url is not None
    started = time.monotonic() if started is None else started
    keys = Keys(settings.redis_key_prefix)
    last: tuple[int, int] | None = None
    since: str | None = None  # the stream id of the moment we started, once known
    printed = 0
    announced = False
    nodes: list[tuple[str, int]] = []  # a cluster's nodes, known from the last connection
    while stop_after is None or printed < stop_after:
        client = create_subscriber(settings, settings.redis_url, known_nodes=nodes)
        pubsub = client.pubsub()
        sharded = settings.redis_cluster
        try:
            await initialize(client)
            if since is None and not from_start:
                since = await _stream_id_at(client, started)
            await subscribe(pubsub, keys.events_channel(board_id), sharded=sharded)
            # Replay only once Redis confirmed the subscription: an event published
            # before that is in the stream, one published after reaches us live (the
            # stream id skips those that do both).
            await _confirmed(pubsub, sharded=sharded)
            if not announced and announce is not None:
                announce(
                    f"listening for rank changes on leaderboard {board_id!r} "
                    f"({'kept events first' if from_start else 'since start'}; Ctrl-C stops)"
                )
            announced = True
            # After the last event printed; else from the start (or all kept events).
            start = since or "-"
            if last is not None:
                start = f"({last[0]}-{last[1]}"
            entries: list[tuple[str, dict[str, str]]] = await client.xrange(  # type: ignore[assignment]
                keys.events_stream(board_id), min=start
            )
            for entry_id, fields in entries:
                if stop_after is not None and printed >= stop_after:
                    return
                emit(event_from_stream(entry_id, fields))
                last = stream_id_key(entry_id)
                printed += 1
            while stop_after is None or printed < stop_after:
                message = await next_message(pubsub, sharded=sharded, timeout=1.0)
                if message is None:
                    continue
                _, data = message
                event = msgspec.json.decode(data, type=Envelope)
                key = stream_id_key(event.id) if event.id else None
                if key is not None and last is not None and key <= last:
                    continue
                emit(data)
                last = key or last
                printed += 1
        except REDIS_OUTAGE_ERRORS as exc:
            logger.warning("lost Redis (%s); reconnecting", exc)
            await asyncio.sleep(0.5)
        finally:
            nodes = cluster_nodes(client) or nodes
            await close_quietly(pubsub, client)


async def _stream_id_at(client: Any, started: float) -> str:
    """The stream id (Redis's clock, in ms) of the monotonic moment ``started``.

    Redis stamps stream ids with its own clock; reading it and going back by the time
    elapsed here since ``started`` makes the result independent of this machine's clock.
    """
    seconds, microseconds = await client.time()
    now_ms = int(seconds) * 1000 + int(microseconds) // 1000
    elapsed_ms = int((time.monotonic() - started) * 1000)
    return f"{max(0, now_ms - elapsed_ms)}-0"


async def _confirmed(pubsub: Any, *, sharded: bool) -> None:
    """Wait for Redis's reply to (S)SUBSCRIBE: from then on every publish reaches us."""
    deadline = time.monotonic() + CONFIRM_TIMEOUT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        if sharded:
            message = await pubsub.get_sharded_message(timeout=left)
        else:
            message = await pubsub.get_message(timeout=left)
        if message is not None and message["type"] in _CONFIRMATIONS:
            return
    # An outage as far as the caller is concerned: it reconnects and subscribes again.
    raise redis.exceptions.TimeoutError("Redis did not confirm the subscription")
