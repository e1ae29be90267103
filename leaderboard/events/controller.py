"""A board's rank-change events over WebSocket and Server-Sent Events (bridge.py serves them)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, WebSocket, get, websocket
from litestar.params import FromPath, FromQuery

from leaderboard.events.bridge import (
    LastEventIdHeader,
    serve_socket,
    sse_response,
    sse_responses,
)
from leaderboard.events.deps import EventsDep
from leaderboard.events.sse import EventStreamResponse
from leaderboard.lib.cors import same_origin_or_allowed
from leaderboard.lib.openapi import ApiOperation


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
        responses=sse_responses(
            "rank-change events",
            {
                400: "A Last-Event-ID that is not an event id (of this board).",
                404: "No such leaderboard.",
                429: "This client address holds too many event streams.",
            },
        ),
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
        return await sse_response(request, events, events.board(board_id), player_id)

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
        await serve_socket(
            socket,
            events,
            events.board(board_id),
            player_id=player_id,
            last_event_id=last_event_id,
            check=lambda: events.check_board(board_id),
        )
