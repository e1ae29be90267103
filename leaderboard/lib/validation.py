"""Input checks shared by the features: constraint patterns, and checks on free-form JSON."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from leaderboard.lib.errors import InvalidInputError

METADATA_MAX_BYTES = 4096

# Patterns of msgspec constraints (Meta(pattern=...)) end in \Z, not $: msgspec matches
# with re.search, where $ also matches before a final newline, so "abc\n" passed
# "^[a-z]+$". The OpenAPI document states them with $, which means the end of the string
# there (ECMA-262; lib/openapi.py translates). Regexes in the code use fullmatch.
NO_CONTROLS = r"^[^\x00-\x1f\x7f-\x9f]+\Z"
"""Text without C0 or C1 control characters (U+0085 breaks lines too) or DEL."""
BOARD_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
"""A board id (the contract's slug), for ids outside a body: use ``fullmatch``."""


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
