"""Events over Server-Sent Events and WebSocket, for clients without Redis: any topic.

The boards' controller (controller.py) and the leagues' serve their streams through
:func:`sse_response` and :func:`serve_socket`; only the path, the check that the board or
league exists, and the documentation differ.

Every stream holds an :class:`~leaderboard.events.streams.EventStream` (a subscription
and one of the client address's stream slots) from the moment it is opened, and each
path out releases it: see sse.py for SSE, websocket.py for WebSockets. The
``leaderboard_event_subscribers`` gauge follows.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Annotated, Any

from litestar import Request, WebSocket
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter
from litestar.response import ServerSentEventMessage

from leaderboard.events.delivery import STREAM_ID, Delivery, canonical_or_none
from leaderboard.events.hub import EventHub, HubClosedError
from leaderboard.events.models import Envelope
from leaderboard.events.sse import EventStreamResponse
from leaderboard.events.topics import Topic
from leaderboard.events.websocket import close, close_code, serve_websocket
from leaderboard.lib.errors import InvalidInputError, NotFoundError, RateLimitedError
from leaderboard.lib.openapi import errors

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


def sse_responses(what: str, notes: Mapping[int, str]) -> dict[int, ResponseSpec]:
    """The OpenAPI responses of an SSE endpoint: the endless stream of ``what``, and errors."""
    return {
        # The stream itself, not a JSON document: each event is `event:`, `id:` and a
        # `data:` line holding one JSON object (docs/events.md).
        200: ResponseSpec(
            str,
            media_type="text/event-stream",
            description=f"An endless `text/event-stream` of {what}.",
            generate_examples=False,
        ),
        **errors(400, 404, 429, 503, notes=notes),
    }


def client_address(scope: Mapping[str, Any]) -> str:
    """The client's address (after uvicorn's trusted-proxy handling), the cap's key."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def sse_response(
    request: Request[Any, Any, Any], events: EventHub, topic: Topic, player_id: str | None
) -> EventStreamResponse:
    """The topic's events as ``text/event-stream`` (the caller checked that it exists).

    Raises:
        InvalidInputError: a ``Last-Event-ID`` that is not an event id (400).
        RateLimitedError: the client address holds too many streams (429).

    """
    last_event_id = request.headers.get("last-event-id")
    if last_event_id is not None and not STREAM_ID.fullmatch(last_event_id):
        raise InvalidInputError("Last-Event-ID", "expected an event id like 1732560000000-0")
    # Subscribe before reading the stream, so nothing falls between the two; read the
    # missed events before the response starts, so a bad id is still a clean 400.
    stream = events.open_stream(topic, client_address(request.scope))
    try:
        missed: list[tuple[str, str]] = []
        if last_event_id is not None:
            missed = await events.replay(topic, last_event_id)
        delivery = Delivery(stream.subscription, canonical_or_none(player_id))
        # From here the response owns the stream and releases it however it ends.
        return EventStreamResponse(stream, _sse_messages(events, delivery, missed))
    except BaseException:  # a Redis error, a bad id, or cancellation: nothing to stream
        stream.release()
        raise


async def serve_socket(
    socket: WebSocket[Any, Any, Any],
    events: EventHub,
    topic: Topic,
    *,
    player_id: str | None,
    last_event_id: str | None,
    check: Callable[[], Awaitable[object]],
) -> None:
    """The topic's events as WebSocket text messages, until either side closes.

    ``check`` raises NotFoundError for a topic of nothing. A refusal accepts the socket,
    then closes it with a code and a reason (a browser sees those, not a bare 403).
    """
    await socket.accept()
    try:
        await check()
        if last_event_id is not None and not STREAM_ID.fullmatch(last_event_id):
            raise InvalidInputError("last_event_id", "expected an event id like 1732560000000-0")
        stream = events.open_stream(topic, client_address(socket.scope))
    except (NotFoundError, RateLimitedError, InvalidInputError) as exc:
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
