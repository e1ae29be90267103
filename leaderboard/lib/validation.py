"""Checks on free-form JSON that request Structs cannot express."""

from __future__ import annotations

from typing import Any

import msgspec

from leaderboard.lib.errors import InvalidInputError

METADATA_MAX_BYTES = 4096


def check_metadata(field: str, value: dict[str, Any] | None) -> None:
    """Metadata objects are at most 4 KiB of JSON and hold no NUL (Postgres refuses it)."""
    if value is None:
        return
    encoded = msgspec.json.encode(value)
    if len(encoded) > METADATA_MAX_BYTES:
        raise InvalidInputError(
            field, f"must be at most {METADATA_MAX_BYTES} bytes of JSON, got {len(encoded)}"
        )
    if b"\\u0000" in encoded:
        raise InvalidInputError(field, "must not contain NUL characters")
