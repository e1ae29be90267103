"""Rank-change events over WebSocket and Server-Sent Events, for clients without Redis."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Controller, Request, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage

from leaderboard.events.deps import EventsDep
from leaderboard.events.hub import HEARTBEAT_SECONDS, HubClosedError, Subscription
from leaderboard.events.models import EventsDropped, RankChanged, stream_id_key
from leaderboard.lib.errors import InvalidInputError, NotFoundError
from leaderboard.players.ids import canonical_player_id

_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


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

    def accept(self, message: str) -> RankChanged | None:
        """The event, unless filtered out or already sent (replayed from the stream)."""
        event = msgspec.json.decode(message, type=RankChanged)
        if event.id is not None:
            key = stream_id_key(event.id)
            if self.last_id is not None and key <= self.last_id:
                return None
            self.last_id = key
        if self._player_id is not None and event.player_id != self._player_id:
            return None
        return event

    async def next(self) -> tuple[str, RankChanged | EventsDropped | None]:
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

    @get(
        "/events",
        summary="Rank-change events as Server-Sent Events",
        description="Each event has an `id:`; reconnect with `Last-Event-ID` to receive the "
        "events missed meanwhile (the board's last events are kept). Optional `player_id` "
        "filter. A comment line every 15 s keeps the connection alive.",
    )
    async def sse(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        events: EventsDep,
        player_id: FromQuery[str | None] = None,
    ) -> ServerSentEvent:
        await events.check_board(board_id)
        last_event_id = request.headers.get("last-event-id")
        if last_event_id is not None and not _STREAM_ID.match(last_event_id):
            raise InvalidInputError("Last-Event-ID", "expected an event id like 1732560000000-0")
        # Subscribe before reading the stream, so nothing falls between the two; read the
        # missed events before the response starts, so a bad id is still a clean 400.
        subscription = events.subscribe(board_id)
        delivery = Delivery(subscription, _canonical_or_none(player_id))
        missed: list[tuple[str, str]] = []
        if last_event_id is not None:
            try:
                missed = await events.replay(board_id, last_event_id)
            except BaseException:
                events.unsubscribe(subscription)
                raise

        async def generate() -> AsyncIterator[ServerSentEventMessage]:
            with subscription:
                await events.wait_connected(board_id)
                yield ServerSentEventMessage(comment="subscribed")
                if missed:
                    for entry_id, message in missed:
                        if delivery.accept(message) is not None:
                            yield ServerSentEventMessage(
                                data=message, id=entry_id, event="rank_changed"
                            )
                while True:
                    try:
                        message, event = await delivery.next()
                    except HubClosedError:
                        return
                    if event is None:
                        yield ServerSentEventMessage(comment="heartbeat")
                    elif isinstance(event, RankChanged):
                        yield ServerSentEventMessage(data=message, id=event.id, event=event.type)
                    else:
                        yield ServerSentEventMessage(data=message, event=event.type)

        return ServerSentEvent(generate())

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
        "events_dropped", "dropped": n}`` when the client read too slowly.
        """
        await socket.accept()
        try:
            await events.check_board(board_id)
        except NotFoundError as exc:
            # Accept, then close with a reason: a browser sees the code, not a bare 403.
            await socket.close(code=4404, reason=exc.detail[:120])
            return
        with events.subscribe(board_id) as subscription:
            await events.wait_connected(board_id)
            await socket.send_text('{"type":"subscribed"}')
            delivery = Delivery(subscription, _canonical_or_none(player_id))
            while True:
                try:
                    message, _ = await delivery.next()
                    await socket.send_text(message or '{"type":"heartbeat"}')
                except HubClosedError:
                    await socket.close(code=1001, reason="server shutting down")
                    return
                except WebSocketDisconnect:
                    return
