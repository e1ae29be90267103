"""The WebSocket bridge: events sent while the socket is read, resumable by event id.

bridge.py opens the client's stream of a topic (a board's, a league's);
:func:`serve_websocket` sends ``{"type": "subscribed"}``, the events missed since
``last_event_id`` (when given), then live ones, and returns when either side ends. Close
codes: 4404 unknown board or league, 4400 a bad ``last_event_id``, 1013 try again later
(too many streams from this address, or Redis could not be read), 1001 the server is
shutting down.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from leaderboard.events.delivery import Delivery
from leaderboard.events.hub import EventHub, EventStream, HubClosedError
from leaderboard.events.models import stream_id_key
from leaderboard.lib.errors import DependencyUnavailableError, InvalidInputError, NotFoundError
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.ws_frames import FRAMES, FrameWriter, text_frame

_HEARTBEAT = '{"type":"heartbeat"}'
WS_NOT_FOUND = 4404
WS_BAD_REQUEST = 4400
# "Try again later": a client reconnects after a while.
WS_TRY_AGAIN_LATER = 1013
_OUTAGES: tuple[type[Exception], ...] = (DependencyUnavailableError, *REDIS_OUTAGE_ERRORS)


def frame_writer(socket: WebSocket[Any, Any, Any]) -> FrameWriter | None:
    """The connection's writer of prebuilt frames, when served by our protocol."""
    writer = (socket.scope.get("extensions") or {}).get(FRAMES)
    return writer if isinstance(writer, FrameWriter) else None


def close_code(exc: Exception) -> int:
    if isinstance(exc, NotFoundError):
        return WS_NOT_FOUND
    if isinstance(exc, InvalidInputError):
        return WS_BAD_REQUEST
    return WS_TRY_AGAIN_LATER


async def close(socket: WebSocket[Any, Any, Any], code: int, reason: str) -> None:
    with contextlib.suppress(WebSocketDisconnect, OSError):
        await socket.close(code=code, reason=reason[:120])


async def serve_websocket(
    socket: WebSocket[Any, Any, Any],
    events: EventHub,
    stream: EventStream,
    delivery: Delivery,
    resume_from: str | None,
) -> None:
    """Send events while reading the socket: whichever ends first ends the other.

    Reading is what notices a client that went away (uvicorn reports the closed
    connection to a waiting ``receive()`` at once, and its own close at shutdown);
    a sender alone would notice only when its next write failed.
    """
    reader = asyncio.create_task(_read_until_closed(socket), name="ws-reader")
    sender = asyncio.create_task(
        _send_events(socket, events, stream, delivery, resume_from), name="ws-sender"
    )
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
    socket: WebSocket[Any, Any, Any],
    events: EventHub,
    stream: EventStream,
    delivery: Delivery,
    resume_from: str | None,
) -> None:
    # A client gone while we write: Litestar raises WebSocketDisconnect, uvicorn
    # ClientDisconnected (an OSError). Either way the reader ends the exchange.
    with contextlib.suppress(WebSocketDisconnect, OSError):
        await events.wait_connected(stream.topic)
        # Read the missed events once live events reach the subscription: an event
        # published meanwhile is in both, and Delivery sends it once (by id).
        missed: list[tuple[str, str]] = []
        if resume_from is not None:
            delivery.last_id = stream_id_key(resume_from)  # nothing up to it, ever
            try:
                missed = await events.replay(stream.topic, resume_from)
            except InvalidInputError as exc:
                await close(
                    socket, WS_BAD_REQUEST, exc.detail.replace("Last-Event-ID", "last_event_id")
                )
                return
            except _OUTAGES:
                await close(socket, WS_TRY_AGAIN_LATER, "redis is unavailable; try again later")
                return
        await socket.send_text('{"type":"subscribed"}')
        frames = frame_writer(socket)
        for _, message in missed:
            if delivery.accept(message) is not None:
                await socket.send_text(message)

        def write(text: str) -> bool:
            return frames is not None and frames.write(text_frame(text))

        while True:
            # Caught up: the hub writes the events itself (this task wakes for heartbeats,
            # a message the connection could not take, or the end).
            if frames is not None:
                delivery.go_direct(write)
            try:
                message, _ = await delivery.next()
            except HubClosedError:
                await socket.close(code=1001, reason="server shutting down")
                return
            # What else is queued goes in the same turn: one write for all of it.
            for text in (message or _HEARTBEAT, *delivery.take_ready()):
                if not write(text):
                    await socket.send_text(text)
