"""Request bodies may nest JSON at most :data:`MAX_JSON_DEPTH` levels deep.

msgspec decodes nested arrays and objects by recursion, bounded only by Python's
recursion limit: a body nested 950 levels deep was decoded, one nested 980 levels was
refused by a ``RecursionError``. The depth is checked here before the body is decoded,
cheaply: two ``count`` calls settle almost every body (fewer than 33 brackets cannot
nest 33 deep); the others lose their strings and every byte but a bracket, and one
``replace`` per level takes the innermost pairs away (at most 32, in C).
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from leaderboard.lib.errors import InvalidInputError

MAX_JSON_DEPTH = 32
"""How deep a request body may nest: ``{"a": [1]}`` is 2 levels (the body is the first)."""

# A JSON string: what it holds is no bracket.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def nested_deeper_than(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON in ``body`` nests arrays and objects more than ``limit`` deep.

    Exact for valid JSON. For invalid JSON (which the decoder refuses anyway) it says True
    when the decoder could be led deeper than ``limit`` before finding the fault.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", body).translate(_SQUARE, _NOT_BRACKETS)
    # Each pass takes away the pairs that hold nothing (any more): after n passes, every
    # pair with at most n levels inside and including it is gone.
    for _ in range(limit):
        reduced = brackets.replace(b"[]", b"")
        if len(reduced) == len(brackets):
            break
        brackets = reduced
    # Left: pairs nested deeper than the limit, and brackets without a partner (open
    # ones would each lead the decoder a level deeper).
    return b"[]" in brackets or brackets.count(b"[") > limit


def check_json_depth(body: bytes) -> None:
    """A 400 naming the body when it nests deeper than :data:`MAX_JSON_DEPTH`."""
    if nested_deeper_than(body):
        raise InvalidInputError("body", f"nested more than {MAX_JSON_DEPTH} levels deep")


class DepthCheckedRequest(Request[Any, Any, Any]):
    """The app's request class: its JSON body is checked for depth before it is decoded."""

    async def json(self) -> Any:
        check_json_depth(await self.body())
        return await super().json()
