"""Regexes match whole strings: a trailing newline is not a match (no database needed).

Python's ``$`` also matches before a final newline: with ``re.match``/``re.search`` (and
msgspec constraints, which use ``search``) ``"abc\\n"`` passed ``^[a-z]+$``.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated

import msgspec
import pytest

from leaderboard.auth.sessions import parse_token
from leaderboard.boards.models import BoardId
from leaderboard.lib.openapi_schemas import ecma_pattern
from leaderboard.lib.validation import NO_CONTROLS
from leaderboard.players.models import CountryCode


def test_a_session_token_with_a_trailing_newline_is_malformed() -> None:
    token = f"{uuid.uuid4()}.{secrets.token_urlsafe(32)}"
    assert parse_token(token) is not None
    assert parse_token(token + "\n") is None


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (BoardId, "weekly-race", "weekly-race\n"),
        (CountryCode, "DE", "DE\n"),
        (Annotated[str, msgspec.Meta(pattern=NO_CONTROLS)], "Weekly race", "Weekly race\n"),
        (Annotated[str, msgspec.Meta(pattern=NO_CONTROLS)], "Weekly race", "Weekly\x85race"),
    ],
)
def test_constraint_patterns_refuse_a_trailing_newline(kind: object, good: str, bad: str) -> None:
    assert msgspec.convert(good, kind) == good
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(bad, kind)


def test_the_document_states_the_end_of_the_string_as_ecma_does() -> None:
    assert ecma_pattern(r"^[A-Z]{2}\Z") == "^[A-Z]{2}$"
    assert ecma_pattern("^[0-9]+$") == "^[0-9]+$"
