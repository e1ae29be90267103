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

from leaderboard.events.models import Envelope, event_from_stream, stream_id_key
from leaderboard.lib.keys import Keys
from leaderboard.lib.pubsub import close_quietly, confirmed, next_message, subscribe
from leaderboard.lib.redis_client import (
    REDIS_OUTAGE_ERRORS,
    cluster_nodes,
    create_subscriber,
    initialize,
)
from leaderboard.lib.settings import Settings

logger = logging.getLogger(__name__)

CONFIRM_TIMEOUT_SECONDS = 10.0
# Redis went away, or whatever answers in its place does not answer (the bound on setup).
_LOST: tuple[type[Exception], ...] = (*REDIS_OUTAGE_ERRORS, TimeoutError)


async def watch(
    settings: Settings,
    board_id: str,
    *,
    from_start: bool,
    emit: Callable[[str], None],
    announce: Callable[[str], None] | None = None,
    started: float | None = None,
    stop_after: int | None = None,
    relocate: Callable[[], str | None] | None = None,
) -> None:
    """Print each event of ``board_id`` as one JSON line; reconnect when Redis goes away.

    ``from_start`` first prints every event the board's stream still keeps; otherwise
    the events from ``started`` on (a ``time.monotonic()`` reading: when the command
    began; default now). ``announce`` is told once the subscription is active. After a
    reconnect, events that the stream kept meanwhile are printed too, so a Redis
    restart loses none that it persisted. ``relocate``, asked after each failed attempt,
    tells where Redis is now (None: where it was), so that watching follows an embedded
    Valkey that came back on another port.
    """
    assert settings.redis_url is not None
    redis_url = settings.redis_url
    started = time.monotonic() if started is None else started
    keys = Keys(settings.redis_key_prefix)
    last: tuple[int, int] | None = None
    since: str | None = None  # the stream id of the moment we started, once known
    printed = 0
    announced = False
    outage = False
    nodes: list[tuple[str, int]] = []  # a cluster's nodes, known from the last connection
    while stop_after is None or printed < stop_after:
        client = create_subscriber(settings, redis_url, known_nodes=nodes)
        pubsub = client.pubsub()
        sharded = settings.redis_cluster
        try:
            # Bounded: the subscriber has no command timeout, and whatever listens on a
            # port Redis left may never answer.
            async with asyncio.timeout(CONFIRM_TIMEOUT_SECONDS):
                await initialize(client)
                if since is None and not from_start:
                    since = await _stream_id_at(client, started)
                await subscribe(pubsub, keys.events_channel(board_id), sharded=sharded)
                # Replay only once Redis confirmed the subscription: an event published
                # before that is in the stream, one published after reaches us live (the
                # stream id skips those that do both).
                await confirmed(pubsub, sharded=sharded, timeout=CONFIRM_TIMEOUT_SECONDS)
            if outage:
                logger.warning("reconnected to Redis")
                outage = False
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
        except _LOST as exc:
            if not outage:  # once per outage, not twice a second
                logger.warning("lost Redis (%s); reconnecting", exc)
                outage = True
            await asyncio.sleep(0.5)
            redis_url = (relocate() if relocate is not None else None) or redis_url
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
