"""Events over Server-Sent Events and WebSocket, for clients without Redis: any topic.

The boards' controller (controller.py) and the leagues' serve their streams through
these two functions; only the path, the existence check and the documentation differ.

Every stream holds an :class:`~leaderboard.events.streams.EventStream` (a subscription
and one of the client address's stream slots) from the moment it is opened, and each
path out releases it: see sse.py for SSE, ``_serve_websocket`` for WebSockets. The
``leaderboard_event_subscribers`` gauge follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Annotated, Any

import msgspec
from litestar import Request, WebSocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import HeaderParameter
from litestar.response import ServerSentEventMessage

from leaderboard.events.hub import HEARTBEAT_SECONDS, EventHub, EventStream, HubClosedError
from leaderboard.events.models import Envelope, EventsDropped, stream_id_key
from leaderboard.events.sse import EventStreamResponse
from leaderboard.events.subscription import Subscription
from leaderboard.events.topics import Topic
from leaderboard.lib.errors import InvalidInputError, NotFoundError, RateLimitedError
from leaderboard.lib.ids import canonical_player_id

_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_HEARTBEAT = '{"type":"heartbeat"}'
# WebSocket close code 1013 "try again later": over the per-address stream cap.
WS_TRY_AGAIN_LATER = 1013
# WebSocket close code for an unknown board or league (the 4xxx range is the application's).
WS_NOT_FOUND = 4404
# The header as the OpenAPI document shows it; the handler reads and checks it itself
# (a 400 naming Last-Event-ID), so its pattern goes to the schema only.
LastEventIdHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID",
        description="Resume: the `id:` of the last event received; the events kept since "
        "then come first.",
        schema_extra={"pattern": _STREAM_ID.pattern},
    ),
]


def client_address(scope: Mapping[str, Any]) -> str:
    """The client's address (after uvicorn's trusted-proxy handling), the cap's key."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _canonical_or_none(player_id: str | None) -> str | None:
    """The filter's player id in canonical form (a malformed one matches nobody)."""
    if player_id is None:
        return None
    try:
        return canonical_player_id(player_id)
    except NotFoundError:
        return player_id


def dropped_notice(topic: Topic, dropped: int) -> EventsDropped:
    """``events_dropped`` naming what the client follows (``leaderboard`` or ``league``)."""
    if topic.kind == "league":
        return EventsDropped(league=topic.id, dropped=dropped)
    return EventsDropped(leaderboard=topic.id, dropped=dropped)


class Delivery:
    """What one client receives: missed events first (on resume), then live ones, filtered."""

    def __init__(self, subscription: Subscription, player_id: str | None) -> None:
        self._subscription = subscription
        self._player_id = player_id
        self.last_id: tuple[int, int] | None = None

    @property
    def topic(self) -> Topic:
        return self._subscription.topic

    def accept(self, message: str) -> Envelope | None:
        """The event, unless filtered out or already sent (replayed from the stream).

        Any type of event (``rank_changed``, ``zone_changed`` … and types added later);
        ``player_id`` keeps those about that player.
        """
        event = msgspec.json.decode(message, type=Envelope)
        if event.id is not None:
            key = stream_id_key(event.id)
            if self.last_id is not None and key <= self.last_id:
                return None
            self.last_id = key
        if self._player_id is not None and event.player_id != self._player_id:
            return None
        return event

    async def next(self) -> tuple[str, Envelope | EventsDropped | None]:
        """The next message to send: (json, event), or ("", None) for a heartbeat."""
        while True:
            message = await self._subscription.next(HEARTBEAT_SECONDS)
            dropped = self._subscription.take_dropped()
            if dropped:
                notice = dropped_notice(self.topic, dropped)
                if message is not None:
                    self._subscription.push_front(message)
                return msgspec.json.encode(notice).decode(), notice
            if message is None:
                return "", None
            event = self.accept(message)
            if event is not None:
                return message, event


async def sse_response(
    request: Request[Any, Any, Any], events: EventHub, topic: Topic, player_id: str | None
) -> EventStreamResponse:
    """The topic's events as ``text/event-stream`` (the caller checked that it exists).

    Raises:
        InvalidInputError: a ``Last-Event-ID`` that is not an event id (400).
        RateLimitedError: the client address holds too many streams (429).

    """
    last_event_id = request.headers.get("last-event-id")
    if last_event_id is not None and not _STREAM_ID.match(last_event_id):
        raise InvalidInputError("Last-Event-ID", "expected an event id like 1732560000000-0")
    # Subscribe before reading the stream, so nothing falls between the two; read the
    # missed events before the response starts, so a bad id is still a clean 400.
    stream = events.open_stream(topic, client_address(request.scope))
    try:
        missed: list[tuple[str, str]] = []
        if last_event_id is not None:
            missed = await events.replay(topic, last_event_id)
        delivery = Delivery(stream.subscription, _canonical_or_none(player_id))
        # From here the response owns the stream and releases it however it ends.
        return EventStreamResponse(stream, _sse_messages(events, delivery, missed))
    except BaseException:  # a Redis error, a bad id, or cancellation: nothing to stream
        stream.release()
        raise


async def serve_socket(
    socket: WebSocket[Any, Any, Any],
    events: EventHub,
    topic: Topic,
    player_id: str | None,
    check: Callable[[], Awaitable[object]],
) -> None:
    """The topic's events as WebSocket text messages, until either side closes.

    ``check`` raises NotFoundError for a topic of nothing: the socket is then accepted
    and closed with 4404 and a reason (a browser sees the code, not a bare 403).
    """
    await socket.accept()
    try:
        await check()
        stream = events.open_stream(topic, client_address(socket.scope))
    except (NotFoundError, RateLimitedError) as exc:
        code = WS_NOT_FOUND if isinstance(exc, NotFoundError) else WS_TRY_AGAIN_LATER
        with contextlib.suppress(WebSocketDisconnect, OSError):
            await socket.close(code=code, reason=exc.detail[:120])
        return
    try:
        delivery = Delivery(stream.subscription, _canonical_or_none(player_id))
        await _serve_websocket(socket, events, stream, delivery)
    finally:
        stream.release()


async def _sse_messages(
    events: EventHub, delivery: Delivery, missed: list[tuple[str, str]]
) -> AsyncGenerator[ServerSentEventMessage, None]:
    await events.wait_connected(delivery.topic)
    # Comments without data: an empty `data:` line would be an empty `message` event.
    yield ServerSentEventMessage(comment="subscribed", data=None)
    for entry_id, message in missed:
        replayed = delivery.accept(message)
        if replayed is not None:
            yield ServerSentEventMessage(data=message, id=entry_id, event=replayed.type)
    while True:
        try:
            message, event = await delivery.next()
        except HubClosedError:
            return
        if event is None:
            yield ServerSentEventMessage(comment="heartbeat", data=None)
        elif isinstance(event, Envelope):
            yield ServerSentEventMessage(data=message, id=event.id, event=event.type)
        else:
            yield ServerSentEventMessage(data=message, event=event.type)


async def _serve_websocket(
    socket: WebSocket[Any, Any, Any], events: EventHub, stream: EventStream, delivery: Delivery
) -> None:
    """Send events while reading the socket: whichever ends first ends the other.

    Reading is what notices a client that went away (uvicorn reports the closed
    connection to a waiting ``receive()`` at once, and its own close at shutdown);
    a sender alone would notice only when its next write failed.
    """
    reader = asyncio.create_task(_read_until_closed(socket), name="ws-reader")
    sender = asyncio.create_task(_send_events(socket, events, stream, delivery), name="ws-sender")
    try:
        await asyncio.wait({reader, sender}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, sender):
            task.cancel()
        await asyncio.gather(reader, sender, return_exceptions=True)
    for task in (reader, sender):
        if not task.cancelled():
            task.result()  # an unexpected error: let it reach the log


async def _read_until_closed(socket: WebSocket[Any, Any, Any]) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while (await socket.receive())["type"] != "websocket.disconnect":
            pass  # client messages carry nothing for us


async def _send_events(
    socket: WebSocket[Any, Any, Any], events: EventHub, stream: EventStream, delivery: Delivery
) -> None:
    # A client gone while we write: Litestar raises WebSocketDisconnect, uvicorn
    # ClientDisconnected (an OSError). Either way the reader ends the exchange.
    with contextlib.suppress(WebSocketDisconnect, OSError):
        await events.wait_connected(stream.topic)
        await socket.send_text('{"type":"subscribed"}')
        while True:
            try:
                message, _ = await delivery.next()
            except HubClosedError:
                await socket.close(code=1001, reason="server shutting down")
                return
            await socket.send_text(message or _HEARTBEAT)
