"""Content negotiation: MessagePack bodies for game clients that ask for them.

JSON stays the default. A client that sends ``Accept: application/msgpack`` (or
``application/x-msgpack``) gets the same body encoded by msgspec as MessagePack from the
read and submit endpoints; errors stay JSON (the contract's error shape).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import MediaType, Request, Response

MSGPACK_TYPES = ("application/msgpack", "application/x-msgpack")
_OFFERED = [MediaType.JSON.value, *MSGPACK_TYPES]


def negotiated(
    request: Request[Any, Any, Any],
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response[Any]:
    """``body`` as JSON, or as MessagePack when the client prefers it."""
    accept = request.headers.get("accept")
    best = request.accept.best_match(_OFFERED, default=MediaType.JSON.value) if accept else None
    if best in MSGPACK_TYPES:
        return Response(
            msgspec.msgpack.encode(body),
            media_type=best,
            status_code=status_code,
            headers=dict(headers or {}),
        )
    # Encoded here, straight to bytes: Litestar's serializer would inspect the type of the
    # body on every response first (measurable on the hot read paths).
    return Response(
        msgspec.json.encode(body),
        media_type=MediaType.JSON,
        status_code=status_code,
        headers=dict(headers or {}),
    )
