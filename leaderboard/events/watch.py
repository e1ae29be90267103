"""``leaderboard watch``: a board's rank-change events as JSON lines, straight from Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import msgspec

from leaderboard.events.models import RankChanged, event_from_stream, stream_id_key
from leaderboard.events.pubsub import close_quietly, next_message, subscribe
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS, create_subscriber, initialize
from leaderboard.lib.settings import Settings

logger = logging.getLogger(__name__)


async def watch(
    settings: Settings,
    board_id: str,
    *,
    from_start: bool,
    emit: Callable[[str], None],
    stop_after: int | None = None,
) -> None:
    """Print each event of ``board_id`` as one JSON line; reconnect when Redis goes away.

    ``from_start`` first prints the events the board's stream still keeps. After a
    reconnect, events that the stream kept meanwhile are printed too, so a Redis restart
    loses none that it persisted.
    """
    assert settings.redis_url is not None
    keys = Keys(settings.redis_key_prefix)
    last: tuple[int, int] | None = None
    printed = 0
    replay = from_start
    while stop_after is None or printed < stop_after:
        client = create_subscriber(settings, settings.redis_url)
        pubsub = client.pubsub()
        sharded = settings.redis_cluster
        try:
            await initialize(client)
            await subscribe(pubsub, keys.events_channel(board_id), sharded=sharded)
            if replay:
                # Subscribed first, so nothing falls between the replay and the live events.
                start = "-" if last is None else f"({last[0]}-{last[1]}"
                entries: list[tuple[str, dict[str, str]]] = await client.xrange(  # type: ignore[assignment]
                    keys.events_stream(board_id), min=start
                )
                for entry_id, fields in entries:
                    emit(event_from_stream(entry_id, fields))
                    last = stream_id_key(entry_id)
                    printed += 1
            replay = True
            while stop_after is None or printed < stop_after:
                message = await next_message(pubsub, sharded=sharded, timeout=1.0)
                if message is None:
                    continue
                _, data = message
                event = msgspec.json.decode(data, type=RankChanged)
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
            await close_quietly(pubsub, client)
