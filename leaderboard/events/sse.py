"""The SSE response: a stream whose subscription lives exactly as long as the response.

Litestar's own ``ServerSentEvent`` sends the body from a task and cancels it when
``receive()`` says ``http.disconnect``. Cleanup that lives in the content generator (a
``with``/``finally`` around its loop) therefore runs only if the generator had started:
a client that leaves before the first chunk is sent (or right after the request head)
cancels the task before the generator's first step, and the generator is just dropped.
Its subscription stayed in the hub for ever.

Here the response owns the client's :class:`~leaderboard.events.streams.EventStream` and
releases it in a ``finally`` around the whole ASGI call, whatever happens: the client
leaves (watched on ``receive()``: the body task is cancelled), the events end (hub
closed), the server drains (``server_draining``: the stream ends cleanly, with the
closing chunk, so uvicorn need not wait or cancel), or the call itself is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable
from typing import TYPE_CHECKING, Any

from litestar.response import ServerSentEventMessage
from litestar.response.base import ASGIResponse
from litestar.response.streaming import Stream

from leaderboard.events.streams import EventStream
from leaderboard.lib.http_limits import server_draining

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.background_tasks import BackgroundTask, BackgroundTasks
    from litestar.connection import Request
    from litestar.datastructures import Cookie
    from litestar.enums import MediaType
    from litestar.types import Receive, Scope, Send, TypeEncodersMap

Messages = AsyncGenerator[ServerSentEventMessage, None]

_HEADERS = {
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",  # proxies must pass events on at once, not buffer them
}


class EventStreamResponse(Stream):
    """``text/event-stream`` of ``messages``; ``stream`` is released when the response ends."""

    def __init__(self, stream: EventStream, messages: Messages) -> None:
        # The body is sent by _EventStreamASGIResponse, not by Stream's iterator.
        super().__init__((), media_type="text/event-stream", headers=_HEADERS)
        self.stream = stream
        self.messages = messages

    def to_asgi_response(
        self,
        app: Litestar | None,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: MediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIResponse:
        return _EventStreamASGIResponse(
            stream=self.stream,
            messages=self.messages,
            headers={**(headers or {}), **self.headers},
            is_head_response=is_head_response,
        )


class _EventStreamASGIResponse(ASGIResponse):
    __slots__ = ("_draining", "_messages", "_stream")

    _should_set_content_length = False

    def __init__(
        self,
        *,
        stream: EventStream,
        messages: Messages,
        headers: dict[str, str],
        is_head_response: bool,
    ) -> None:
        super().__init__(
            headers=headers, media_type="text/event-stream", is_head_response=is_head_response
        )
        self._stream = stream
        self._messages = messages
        self._draining: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            self._draining = server_draining(scope)
            await super().__call__(scope, receive, send)
        finally:
            self._stream.release()
            await self._messages.aclose()

    async def send_body(self, send: Send, receive: Receive) -> None:
        body = asyncio.create_task(self._send_messages(send), name="sse-body")
        watchers = [asyncio.create_task(_cancel_on_disconnect(receive, body))]
        if self._draining is not None:
            watchers.append(asyncio.create_task(_end_on(self._draining, self._stream)))
        try:
            await asyncio.wait({body})
        finally:
            for task in (body, *watchers):
                task.cancel()
            await asyncio.gather(body, *watchers, return_exceptions=True)
        if not body.cancelled():
            body.result()  # an unexpected error: let it reach the log

    async def _send_messages(self, send: Send) -> None:
        async for message in self._messages:
            await send({"type": "http.response.body", "body": message.encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _cancel_on_disconnect(receive: Receive, body: asyncio.Task[None]) -> None:
    """Wait for the client to leave (uvicorn says so at once), then stop sending."""
    while (await receive())["type"] != "http.disconnect":
        pass  # the (empty) request body; nothing else comes before the disconnect
    body.cancel()


async def _end_on(draining: asyncio.Event, stream: EventStream) -> None:
    """The server is shutting down: end the stream cleanly (queued events, closing chunk)."""
    await draining.wait()
    stream.end()
