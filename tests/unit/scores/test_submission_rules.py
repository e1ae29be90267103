"""A submission's rules and one body per Idempotency-Key: pure checks, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leaderboard.boards.models import Board, RateLimitConfig
from leaderboard.lib.errors import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    UnprocessableError,
)
from leaderboard.scores.rules import check_rules, same_request

NOON = datetime(2024, 2, 29, 12, tzinfo=UTC)


def board(**fields: Any) -> Board:
    return Board(
        id="b",
        name="b",
        order="desc",
        operator="best",
        reset="never",
        rate_limit=RateLimitConfig(),
        metadata={},
        created_at=NOON - timedelta(days=1),
        **fields,
    )


def test_an_open_board_without_rules_takes_anything() -> None:
    check_rules(board(), -(2**53) + 1, None, NOON)
    check_rules(board(), 2**53 - 1, "admin", NOON)


def test_a_server_only_board_refuses_players_not_servers() -> None:
    servers_only = board(client_submissions=False)
    with pytest.raises(PermissionDeniedError):
        check_rules(servers_only, 1, None, NOON)
    check_rules(servers_only, 1, "server-key:abc", NOON)
    check_rules(servers_only, 1, "admin", NOON)


@pytest.mark.parametrize(
    ("score", "ok"), [(9, False), (10, True), (15, True), (20, True), (21, False)]
)
def test_bounds_are_inclusive_and_name_the_score(score: int, ok: bool) -> None:
    bounded = board(min_score=10, max_score=20)
    if ok:
        check_rules(bounded, score, None, NOON)
        return
    with pytest.raises(InvalidInputError) as refused:
        check_rules(bounded, score, None, NOON)
    assert refused.value.field == "score"


def test_the_window_opens_on_its_first_moment_and_closes_on_its_last() -> None:
    window = board(starts_at=NOON, ends_at=NOON + timedelta(hours=1))
    check_rules(window, 1, None, NOON)
    check_rules(window, 1, None, NOON + timedelta(minutes=59, seconds=59))
    for moment, said in (
        (NOON - timedelta(seconds=1), "not opened"),
        (NOON + timedelta(hours=1), "closed"),
    ):
        with pytest.raises(ConflictError, match=said):
            check_rules(window, 1, None, moment)


def test_a_key_takes_one_body() -> None:
    same_request("ab12", "ab12")
    with pytest.raises(UnprocessableError, match="Idempotency-Key"):
        same_request("ab12", "cd34")
