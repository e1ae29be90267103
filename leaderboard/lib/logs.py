"""Process-wide logging: JSON lines off a terminal, readable lines on one, with request ids.

Every record carries the id of the request it was logged in (``X-Request-ID``, taken
from the client when it sends a sane one, else generated, and echoed in the response).
A filter scrubs bearer tokens and session tokens from every message, as a second line
of defence: the code never logs request bodies, headers or device ids in the first place.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

import msgspec

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_SECRETS = [
    (re.compile(r"(?i)bearer\s+\S+"), "Bearer [redacted]"),
    # A session token: "<player uuid>.<43 url-safe characters>".
    (re.compile(r"[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}"), "[redacted token]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class ContextFilter(logging.Filter):
    """Adds ``request_id`` to every record and scrubs secrets from its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return msgspec.json.encode(entry).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(rid)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.rid = f" [{request_id}]" if request_id else ""
        text = super().format(record)
        return redact(text) if record.exc_info else text


def configure_logging(level: str, *, json: bool | None = None) -> None:
    """Send every logger (ours, Litestar's, uvicorn's) through one handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    use_json = not sys.stderr.isatty() if json is None else json
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "litestar"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # No access log: a line per request costs a few percent of a worker's CPU, and
    # /metrics counts requests per route anyway.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
