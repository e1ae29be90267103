"""Rank-change events over WebSocket and Server-Sent Events, for clients without Redis.

Every stream holds an :class:`~leaderboard.events.streams.EventStream` (a subscription
and one of the client address's stream slots) from the moment it is opened, and each
path out of the handler releases it: see sse.py for SSE, websocket.py for WebSockets. The
``leaderboard_event_subscribers`` gauge follows.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Annotated, Any

from litestar import Controller, Request, WebSocket, get, websocket
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter
from litestar.response import ServerSentEventMessage

from leaderboard.events.delivery import STREAM_ID, Delivery, canonical_or_none
from leaderboard.events.deps import EventsDep
from leaderboard.events.hub import EventHub, HubClosedError
from leaderboard.events.models import Envelope
from leaderboard.events.sse import EventStreamResponse
from leaderboard.events.websocket import close, close_code, serve_websocket
from leaderboard.lib.cors import same_origin_or_allowed
from leaderboard.lib.errors import InvalidInputError, NotFoundError, RateLimitedError
from leaderboard.lib.openapi import ApiOperation, errors

# The header as the OpenAPI document shows it; the handler reads and checks it itself
# (a 400 naming Last-Event-ID), so its pattern goes to the schema only.
LastEventIdHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID",
        description="Resume: the `id:` of the last event received; the events kept since "
        "then come first.",
        schema_extra={"pattern": STREAM_ID.pattern},
    ),
]


def client_address(scope: Mapping[str, Any]) -> str:
    """The client's address (after uvicorn's trusted-proxy handling), the cap's key."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


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
        if last_event_id is not None and not STREAM_ID.fullmatch(last_event_id):
            raise InvalidInputError("Last-Event-ID", "expected an event id like 1732560000000-0")
        # Subscribe before reading the stream, so nothing falls between the two; read the
        # missed events before the response starts, so a bad id is still a clean 400.
        stream = events.open_stream(board_id, client_address(request.scope))
        try:
            missed: list[tuple[str, str]] = []
            if last_event_id is not None:
                missed = await events.replay(board_id, last_event_id)
            delivery = Delivery(stream.subscription, canonical_or_none(player_id))
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
        last_event_id: FromQuery[str | None] = None,
    ) -> None:
        """Rank-change events as JSON text messages.

        The first message is ``{"type": "subscribed"}``: events from then on are delivered.
        With ``?last_event_id=`` (the ``id`` of the last event received; a browser's
        WebSocket cannot send a ``Last-Event-ID`` header), the events the board's stream
        kept since then come right after it, then live ones, none twice.
        ``{"type": "heartbeat"}`` comes every 15 s without events, ``{"type":
        "events_dropped", "dropped": n}`` when the client read too slowly. Messages from
        the client are read (that is how a closed socket is noticed at once) and ignored.
        """
        await socket.accept()
        try:
            await events.check_board(board_id)
            if last_event_id is not None and not STREAM_ID.fullmatch(last_event_id):
                raise InvalidInputError(
                    "last_event_id", "expected an event id like 1732560000000-0"
                )
            stream = events.open_stream(board_id, client_address(socket.scope))
        except (NotFoundError, RateLimitedError, InvalidInputError) as exc:
            # Accept, then close with a reason: a browser sees the code, not a bare 403.
            await close(socket, close_code(exc), exc.detail)
            return
        try:
            delivery = Delivery(stream.subscription, canonical_or_none(player_id))
            await serve_websocket(socket, events, stream, delivery, last_event_id)
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
