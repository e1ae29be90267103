"""Each response leaves in one write: its head and its body coalesced.

uvicorn's protocol writes a response's head (``http.response.start``) and its body
(``http.response.body``) with one ``transport.write`` each, and each write is a ``send``
system call at once. On a busy worker those calls are a large share of a small request's
CPU (on loopback the kernel also delivers the data within the sender's call). Here the
transport the protocol writes to gathers what is written during one turn of the event
loop and sends it at the end of that turn: a response written head then body without
waiting in between, as every buffered response is, leaves in one call. A streamed
response (SSE) still leaves chunk by chunk, each at the end of the turn that wrote it.

Closing, aborting or ending the stream sends what was gathered first, in order.
"""

from __future__ import annotations

import asyncio
from typing import Any


class CoalescingTransport:
    """A transport that sends the writes of one event-loop turn together."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        # pause_reading, resume_reading, is_closing, get_extra_info, can_write_eof …
        return getattr(self._transport, name)
