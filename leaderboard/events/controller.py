"""Rank-change events over WebSocket and Server-Sent Events, for clients without Redis.

Every stream holds an :class:`~leaderboard.events.streams.EventStream` (a subscription
and one of the client address's stream slots) from the moment it is opened, and each
path out of the handler releases it: see sse.py for SSE, ``_serve_websocket`` for
WebSockets. The ``leaderboard_event_subscribers`` gauge follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator, Mapping
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter
from litestar.response import ServerSentEventMessage

from leaderboard.events.deps import EventsDep
from leaderboard.events.hub import HEARTBEAT_SECONDS, EventHub, EventStream, HubClosedError
from leaderboard.events.models import Envelope, EventsDropped, stream_id_key
from leaderboard.events.sse import EventStreamResponse
from leaderboard.events.subscription import Subscription
from leaderboard.lib.cors import same_origin_or_allowed
from leaderboard.lib.errors import InvalidInputError, NotFoundError, RateLimitedError
from leaderboard.lib.ids import canonical_player_id
from leaderboard.lib.openapi import ApiOperation, errors

_STREAM_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")
_HEARTBEAT = '{"type":"heartbeat"}'
# WebSocket close code 1013 "try again later": over the per-address stream cap.
WS_TRY_AGAIN_LATER = 1013
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


class Delivery:
    """What one client receives: missed events first (on resume), then live ones, filtered."""

    def __init__(self, subscription: Subscription, player_id: str | None) -> None:
        self._subscription = subscription
        self._player_id = player_id
        self.last_id: tuple[int, int] | None = None

    @property
    def board_id(self) -> str:
        return self._subscription.board_id

    def accept(self, message: str) -> Envelope | None:
        """The event, unless filtered out or already sent (replayed from the stream).

        Any type of event: ``rank_changed``, ``overtaken``, ``entry_removed`` (and types
        added later); ``player_id`` keeps those about that player.
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
                notice = EventsDropped(leaderboard=self._subscription.board_id, dropped=dropped)
                if message is not None:
                    self._subscription.push_front(message)
                return msgspec.json.encode(notice).decode(), notice
            if message is None:
                return "", None
            event = self.accept(message)
            if event is not None:
                return message, event


class EventsController(Controller):
    path = "/v1/leaderboards/{board_id:str}"
    tags = ["events"]  # noqa: RUF012 - Litestar reads it as a class attribute
    # Browser pages of other origins only as CORS allows them (lib/cors.py).
    guards = [same_origin_or_allowed]  # noqa: RUF012 - as above

    @get(
        "/events",
        summary="Rank-change events as Server-Sent Events",
        description="Each event has an `id:`; reconnect with `Last-Event-ID` to receive the "
        "events missed meanwhile (the board's last events are kept). Optional `player_id` "
        "filter. A comment line every 15 s keeps the connection alive. One client address "
        "may hold a limited number of event streams per worker (429 beyond).",
        media_type="text/event-stream",
        response_description="An endless `text/event-stream`",
        operation_id="streamEvents",
        operation_class=ApiOperation,
        responses={
            # The stream itself, not a JSON document: each event is `event:`, `id:` and a
            # `data:` line holding one JSON object (docs/events.md).
            200: ResponseSpec(
                str,
                media_type="text/event-stream",
                description="An endless `text/event-stream` of rank-change events.",
                generate_examples=False,
            ),
            **errors(
                400,
                404,
                429,
                503,
                notes={
                    400: "A Last-Event-ID that is not an event id (of this board).",
                    404: "No such leaderboard.",
                    429: "This client address holds too many event streams.",
                },
            ),
        },
    )
    async def sse(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        events: EventsDep,
        player_id: FromQuery[str | None] = None,
        last_event_id_header: LastEventIdHeader = None,  # documents it; see above
    ) -> EventStreamResponse:
        await events.check_board(board_id)
        last_event_id = request.headers.get("last-event-id")
        if last_event_id is not None and not _STREAM_ID.fullmatch(last_event_id):
            raise InvalidInputError("Last-Event-ID", "expected an event id like 1732560000000-0")
        # Subscribe before reading the stream, so nothing falls between the two; read the
        # missed events before the response starts, so a bad id is still a clean 400.
        stream = events.open_stream(board_id, client_address(request.scope))
        try:
            missed: list[tuple[str, str]] = []
            if last_event_id is not None:
                missed = await events.replay(board_id, last_event_id)
            delivery = Delivery(stream.subscription, _canonical_or_none(player_id))
            # From here the response owns the stream and releases it however it ends.
            return EventStreamResponse(stream, _sse_messages(events, delivery, missed))
        except BaseException:  # a Redis error, a bad id, or cancellation: nothing to stream
            stream.release()
            raise

    @websocket("/ws")
    async def ws(
        self,
        socket: WebSocket[Any, Any, Any],
        board_id: FromPath[str],
        events: EventsDep,
        player_id: FromQuery[str | None] = None,
    ) -> None:
        """Rank-change events as JSON text messages.

        The first message is ``{"type": "subscribed"}``: events from then on are delivered.
        ``{"type": "heartbeat"}`` comes every 15 s without events, ``{"type":
        "events_dropped", "dropped": n}`` when the client read too slowly. Messages from
        the client are read (that is how a closed socket is noticed at once) and ignored.
        """
        await socket.accept()
        try:
            await events.check_board(board_id)
            stream = events.open_stream(board_id, client_address(socket.scope))
        except (NotFoundError, RateLimitedError) as exc:
            # Accept, then close with a reason: a browser sees the code, not a bare 403.
            code = 4404 if isinstance(exc, NotFoundError) else WS_TRY_AGAIN_LATER
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
    board_id = delivery.board_id
    await events.wait_connected(board_id)
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
        await events.wait_connected(stream.board_id)
        await socket.send_text('{"type":"subscribed"}')
        while True:
            try:
                message, _ = await delivery.next()
            except HubClosedError:
                await socket.close(code=1001, reason="server shutting down")
                return
            await socket.send_text(message or _HEARTBEAT)
