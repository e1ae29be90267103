"""How the index encodes the ranking rule (docs/ranking.md): pure functions, no server."""

from __future__ import annotations

import pytest

from leaderboard.ranking.values import (
    TOMBSTONE,
    HeldEntry,
    from_redis_score,
    member_for,
    member_of,
    player_of,
    seq_hex,
    to_redis_score,
)

PLAYER = "5f0c7a1e-9b2d-4c1a-8e4f-2a6b9d3c1e70"
MAX = 2**53 - 1


def test_a_member_is_the_sequence_then_the_player() -> None:
    member = member_for(255, PLAYER)
    assert member == f"00000000000000ff:{PLAYER}"
    assert player_of(member) == PLAYER
    assert member_of(PLAYER, seq_hex(255)) == member
    assert member_of(PLAYER, member) == member, "old indexes hold the whole member"


def test_earlier_sequences_sort_first_as_bytes() -> None:
    members = [member_for(seq, PLAYER) for seq in (1, 15, 16, 255, 2**40, 2**63 - 1)]
    assert sorted(members) == members
    assert seq_hex(2**63 - 1) < TOMBSTONE, "a tombstone is above every sequence"


@pytest.mark.parametrize("score", [0, 1, -1, MAX, -MAX, 123_456_789_012_345])
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_scores_go_through_redis_exactly(score: int, order: str) -> None:
    redis_score = to_redis_score(score, order)  # type: ignore[arg-type]
    assert from_redis_score(float(redis_score), order) == score  # type: ignore[arg-type]
    assert from_redis_score(repr(float(redis_score)), order) == score  # type: ignore[arg-type]


def test_the_best_entry_has_the_lowest_redis_score_on_both_orders() -> None:
    assert to_redis_score(10, "desc") < to_redis_score(5, "desc")
    assert to_redis_score(5, "asc") < to_redis_score(10, "asc")


def test_what_the_index_holds_tells_its_sequence() -> None:
    assert HeldEntry(seq_hex(42), "-10").seq == 42
    assert HeldEntry(TOMBSTONE, None).seq is None
    assert HeldEntry(None, None).seq is None
    assert HeldEntry(member_for(42, PLAYER), "-10").seq is None, "a whole member: unknown"
