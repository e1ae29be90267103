"""The digests' Python side: bucket, id chunks and their way back, the index's text form."""

from __future__ import annotations

import uuid

from leaderboard.ranking.digests import (
    EMPTY,
    Digest,
    bucket_of,
    bucket_range,
    id_chunks,
    player_of_chunks,
)


def test_a_bucket_is_the_ids_first_three_hex_digits_and_one_range_of_ids() -> None:
    player = "9f3a1c2e-4b5d-4e6f-8a7b-1c2d3e4f5a6b"
    assert bucket_of(player) == 0x9F3
    first, last = bucket_range(0x9F3)
    assert first < player < last
    assert str(uuid.UUID(first)) == first
    assert str(uuid.UUID(last)) == last
    assert bucket_range(0x9F4)[0] > last


def test_the_id_chunks_name_the_player_again() -> None:
    player = "9f3a1c2e-4b5d-4e6f-8a7b-1c2d3e4f5a6b"
    # As Postgres' score_entry_digest computes them for this id (the migration's test).
    assert id_chunks(player) == (40762, 7214, 19293, 20079, 35451, 1846590, 5200491)
    for _ in range(50):
        other = str(uuid.uuid4())
        assert player_of_chunks(id_chunks(other)) == other


def test_chunks_that_are_no_id_name_nobody() -> None:
    assert player_of_chunks((-1, 0, 0, 0, 0, 0, 0)) is None
    assert player_of_chunks((0x10000, 0, 0, 0, 0, 0, 0)) is None


def test_the_index_form_reads_back_and_an_absent_bucket_is_empty() -> None:
    digest = Digest.of(3, 67108859 + 5, -1, (1, 2, 3, 4, 5, 6, 7))
    assert (digest.lane1, digest.lane2) == (5, 67108836)
    assert Digest.parse(digest.text()) == digest
    assert Digest.parse(None) == EMPTY == Digest.parse("")
