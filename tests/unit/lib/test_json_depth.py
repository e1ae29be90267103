"""The depth check of request bodies against the depth of the decoded JSON itself."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaderboard.lib.json_depth import MAX_JSON_DEPTH, nested_deeper_than

# Strings full of brackets, quotes and backslashes: none of it is nesting.
TEXT = st.text(alphabet='[]{}"\\ab', max_size=6)
JSON = st.recursive(
    st.none() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=500, deadline=None)
@given(value=JSON, limit=st.integers(min_value=0, max_value=8), indent=st.sampled_from([None, 1]))
def test_the_check_agrees_with_the_decoded_depth(
    value: Any, limit: int, indent: int | None
) -> None:
    body = json.dumps(value, indent=indent).encode()
    assert nested_deeper_than(body, limit) == (depth(value) > limit)


@pytest.mark.parametrize(
    ("body", "deeper"),
    [
        (b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, False),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), True),
        (b"[" * 1000, True),  # never closed: the decoder would go 1000 deep to find out
        (b"]" * 1000, False),  # refused at the first byte by the decoder
        (b'"' + b"[" * 1000 + b'"', False),  # a string
    ],
)
def test_bodies_at_the_edges(body: bytes, deeper: bool) -> None:
    assert nested_deeper_than(body) is deeper
