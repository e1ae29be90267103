"""A real uvicorn in a thread, with LimitedHttpToolsProtocol and a small ASGI app.

For tests of leaderboard/lib/http_limits.py that talk raw sockets to the server, so that
a request head can be cut (or grown) anywhere.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from leaderboard.lib.http_limits import LimitedHttpToolsProtocol, server_draining
from tests.helpers import free_port, wait_until

HEAD_TIMEOUT = 0.5


class QuickHeads(LimitedHttpToolsProtocol):
    header_timeout = HEAD_TIMEOUT


async def hello_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/``: a short answer; ``/endless``: chunks until the server drains; WebSocket: echo."""
    if scope["type"] == "lifespan":
        await receive()  # startup
        await send({"type": "lifespan.startup.complete"})
        await receive()  # shutdown
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message.get("text")})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    if scope["path"] == "/endless":
        draining = server_draining(scope)
        assert draining is not None
        await send({"type": "http.response.body", "body": b"streaming\n", "more_body": True})
        await draining.wait()
        await send({"type": "http.response.body", "body": b"bye\n"})
        return
    await send({"type": "http.response.body", "body": b"hello"})


class Running:
    def __init__(self, server: uvicorn.Server, thread: threading.Thread, port: int) -> None:
        self.server = server
        self.thread = thread
        self.port = port

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


@contextmanager
def running(protocol: type[Any] | str = QuickHeads, keep_alive: int = 3) -> Iterator[Running]:
    port = free_port()
    config = uvicorn.Config(
        hello_app,
        host="127.0.0.1",
        port=port,
        http=protocol,
        lifespan="on",
        log_config=None,
        timeout_keep_alive=keep_alive,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), 10, "uvicorn to start")
    try:
        yield Running(server, thread, port)
    finally:
        server.should_exit = True
        thread.join(10)
