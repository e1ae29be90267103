"""A league's events over Server-Sent Events and WebSocket (events/bridge.py serves them)."""

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
from leaderboard.events.sse import EventStreamResponse
from leaderboard.events.topics import league_topic
from leaderboard.leagues.deps import LeagueEventsDep
from leaderboard.lib.cors import same_origin_or_allowed
from leaderboard.lib.openapi import ApiOperation


class LeagueEventsController(Controller):
    path = "/v1/leagues/{league_id:str}"
    tags = ["leagues"]  # noqa: RUF012 - Litestar reads it as a class attribute
    # Browser pages of other origins only as CORS allows them (lib/cors.py).
    guards = [same_origin_or_allowed]  # noqa: RUF012 - as above

    @get(
        "/events",
        summary="A league's events (zone_changed, season_ended) as Server-Sent Events",
        description="As a board's event stream: each event has an `id:`; reconnect with "
        "`Last-Event-ID` to receive those missed meanwhile; `player_id` keeps one player's "
        "events (their zone changes, and their season_ended).",
        media_type="text/event-stream",
        response_description="An endless `text/event-stream`",
        operation_id="streamLeagueEvents",
        operation_class=ApiOperation,
        responses=sse_responses(
            "league events",
            {
                400: "A Last-Event-ID that is not an event id (of this league).",
                404: "No such league.",
                429: "This client address holds too many event streams.",
            },
        ),
    )
    async def sse(
        self,
        request: Request[Any, Any, Any],
        league_id: FromPath[str],
        league_events: LeagueEventsDep,
        player_id: FromQuery[str | None] = None,
        last_event_id_header: LastEventIdHeader = None,  # documents it; bridge.py reads it
    ) -> EventStreamResponse:
        topic = await league_events.topic(league_id)
        return await sse_response(request, league_events.hub, topic, player_id)

    @websocket("/ws")
    async def ws(
        self,
        socket: WebSocket[Any, Any, Any],
        league_id: FromPath[str],
        league_events: LeagueEventsDep,
        player_id: FromQuery[str | None] = None,
        last_event_id: FromQuery[str | None] = None,
    ) -> None:
        """A league's events as JSON text messages, as a board's WebSocket.

        ``{"type": "subscribed"}`` first; ``?last_event_id=`` resumes after that event;
        ``?player_id=`` keeps one player's events; 4404 closes it for an unknown league.
        """
        topic = league_topic(league_events.keys, league_id)
        await serve_socket(
            socket,
            league_events.hub,
            topic,
            player_id=player_id,
            last_event_id=last_event_id,
            check=lambda: league_events.topic(league_id),
        )
