"""WebSocket fan-out at the cost of one write: an event's frame built once, for everyone.

uvicorn's WebSocket protocol (websockets' sans-I/O machine) frames every message it is
asked to send on its own: one event sent to a thousand subscribers is framed a thousand
times, and with permessage-deflate also compressed a thousand times, each in its own
context. A frame of the server's is not masked, so without an extension the bytes of a
text frame depend on the text alone. :class:`FramedWebSocketProtocol` puts a
:class:`FrameWriter` in each connection's scope (``scope["extensions"][FRAMES]``) that
writes such prebuilt bytes to the connection directly; the events' sender builds each
event's frame once (:func:`text_frame`) and writes it to every subscriber, and the
writes of one event-loop turn leave together (lib/http_writes.py). A connection that
negotiated an extension (compression, ``LEADERBOARD_WS_COMPRESSION``), or that is closing,
is sent to through ASGI as before.

Use it with ``uvicorn.Config(ws="leaderboard.lib.ws_frames:FramedWebSocketProtocol")``.
"""

from __future__ import annotations

import functools
import struct
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

FRAMES = "leaderboard.frames"
"""The key of a connection's :class:`FrameWriter` in its scope's extensions."""


@functools.lru_cache(maxsize=4096)
def text_frame(text: str) -> bytes:
    """An unmasked, final text frame carrying ``text`` (RFC 6455 section 5.2)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 127, size)
    return head + payload


class FrameWriter:
    """Writes prebuilt frames to one connection, when that is what the protocol would send."""

    def __init__(self, protocol: FramedWebSocketProtocol) -> None:
        self._protocol = protocol

    def write(self, frame: bytes) -> bool:
        """Write ``frame``; False when the caller must send through ASGI instead."""
        protocol = self._protocol
        conn = protocol.conn
        if conn.extensions or conn.state is not State.OPEN or protocol.close_sent:
            return False
        if protocol.transport.is_closing():
            return False
        protocol.transport.write(frame)
        return True


class FramedWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][FRAMES] = FrameWriter(self)
