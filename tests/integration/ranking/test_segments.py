"""Country segments: a board's reads within the players of one country.

Each country's index is built from Postgres when first read, then kept by the same
script call that applies a submission to the board's own index; a change of a profile's
country moves the player's entries before the PATCH is answered.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.lib.db import Database
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.players.repository import PlayerRepository
from tests.conftest import ADMIN
from tests.scores_helpers import create_board, insert_players, submit

pytestmark = pytest.mark.redis_modes
Client = AsyncTestClient[Litestar]


async def set_country(client: Client, player: str, country: str | None) -> None:
    response = await client.patch(f"/v1/players/{player}", json={"country": country}, headers=ADMIN)
    assert response.status_code == 200, response.text


async def read(client: Client, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def ranking(client: Client, board_id: str, country: str) -> list[tuple[int, str, int]]:
    page = await read(client, f"/v1/leaderboards/{board_id}/top", country=country)
    assert page["total"] == len(page["entries"])
    return [(e["rank"], e["player_id"], e["score"]) for e in page["entries"]]


async def world(client: Client, database_url: str) -> tuple[str, dict[str, str]]:
    """A segmented board: de1 90, fr1 80, de2 70, none 60, de3 50, fr2 40."""
    board_id = await create_board(client, segments=["country"])
    names = ["de1", "fr1", "de2", "none", "de3", "fr2"]
    ids = dict(zip(names, [p for p, _ in await insert_players(database_url, 6)], strict=True))
    for name, player in ids.items():
        if name != "none":
            await set_country(client, player, name[:2].upper())
    for score, name in zip([90, 80, 70, 60, 50, 40], names, strict=True):
        await submit(client, board_id, ids[name], score)
    return board_id, ids


async def test_reads_within_a_country(client: Client, database_url: str) -> None:
    board_id, ids = await world(client, database_url)
    board = (await client.get(f"/v1/leaderboards/{board_id}")).json()
    assert board["segments"] == ["country"]
    assert await ranking(client, board_id, "DE") == [
        (1, ids["de1"], 90), (2, ids["de2"], 70), (3, ids["de3"], 50)
    ]  # fmt: skip
    assert await ranking(client, board_id, "fr") == [(1, ids["fr1"], 80), (2, ids["fr2"], 40)]
    assert await ranking(client, board_id, "JP") == []
    entry = await read(client, f"/v1/leaderboards/{board_id}/players/{ids['de2']}", country="DE")
    assert (entry["rank"], entry["total"], entry["percentile"], entry["to_next"]) == (
        2, 3, 50.0, 21
    )  # fmt: skip
    whole = await read(client, f"/v1/leaderboards/{board_id}/players/{ids['de2']}")
    assert (whole["rank"], whole["total"]) == (3, 6), "the board's own ranks are untouched"
    around = await read(
        client, f"/v1/leaderboards/{board_id}/players/{ids['de3']}/around", radius=1,
        country="DE",
    )  # fmt: skip
    assert [e["player_id"] for e in around["entries"]] == [ids["de2"], ids["de3"]]
    friends = await read(
        client, f"/v1/leaderboards/{board_id}/players",
        ids=",".join([ids["fr2"], ids["de3"], ids["none"]]), country="FR",
    )  # fmt: skip
    assert [(e["rank"], e["player_id"]) for e in friends["entries"]] == [(2, ids["fr2"])]
    shape = await read(client, f"/v1/leaderboards/{board_id}/histogram", country="DE")
    assert shape["total"] == 3
    assert sum(bucket["count"] for bucket in shape["buckets"]) == 3
    # No country: in no segment.
    missing = await client.get(
        f"/v1/leaderboards/{board_id}/players/{ids['none']}", params={"country": "DE"}
    )
    assert missing.status_code == 404
    # Submissions after the first read change the country's index in the same call.
    await submit(client, board_id, ids["de3"], 95)
    assert (await ranking(client, board_id, "DE"))[0] == (1, ids["de3"], 95)
    assert (await ranking(client, board_id, "FR"))[0] == (1, ids["fr1"], 80)


async def test_a_new_country_moves_the_entries_before_the_answer(
    client: Client, database_url: str
) -> None:
    board_id, ids = await world(client, database_url)
    assert len(await ranking(client, board_id, "FR")) == 2  # both built now
    assert len(await ranking(client, board_id, "DE")) == 3
    await set_country(client, ids["de1"], "FR")
    assert [p for _, p, _ in await ranking(client, board_id, "FR")] == [
        ids["de1"], ids["fr1"], ids["fr2"]
    ]  # fmt: skip
    assert [p for _, p, _ in await ranking(client, board_id, "DE")] == [ids["de2"], ids["de3"]]
    await set_country(client, ids["de1"], None)
    assert len(await ranking(client, board_id, "FR")) == 2
    await set_country(client, ids["none"], "DE")
    assert [p for _, p, _ in await ranking(client, board_id, "DE")] == [
        ids["de2"], ids["none"], ids["de3"]
    ]  # fmt: skip
    assert await unmoved(database_url, list(ids.values())) == 0, "each move is done"


async def unmoved(database_url: str, players: list[str]) -> int:
    """The players' country changes not moved yet (a moved one waits for its second move)."""
    conn = await asyncpg.connect(database_url)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM country_moves"
            " WHERE player_id = ANY($1::uuid[]) AND moved_at IS NULL",
            players,
        )
    finally:
        await conn.close()
    return int(count)


async def test_changes_before_a_move_keep_every_country_left_behind(database_url: str) -> None:
    """Two changes noted before either moved: the row names both countries left."""
    (player, _), *_ = await insert_players(database_url, 1)
    db = Database(database_url)
    await db.open()
    try:
        repository = PlayerRepository(db)
        for old, new in (("DE", "GB"), ("GB", "FR"), (None, "FR")):
            async with db.transaction() as conn:
                await repository.note_country_move(conn, player, old, new)
        async with db.transaction() as conn:
            row = await conn.fetchrow(
                "SELECT old_countries, new_country FROM country_moves WHERE player_id = $1",
                player,
            )
            await conn.execute("DELETE FROM country_moves WHERE player_id = $1", player)
    finally:
        await db.close()
    assert row is not None
    assert (sorted(row["old_countries"]), row["new_country"]) == (["DE", "GB"], "FR")


async def test_moderation_holds_in_segments(client: Client, database_url: str) -> None:
    board_id, ids = await world(client, database_url)
    assert len(await ranking(client, board_id, "DE")) == 3
    response = await client.delete(
        f"/v1/leaderboards/{board_id}/players/{ids['de1']}", headers=ADMIN
    )
    assert response.status_code == 204
    assert [p for _, p, _ in await ranking(client, board_id, "DE")] == [ids["de2"], ids["de3"]]
    response = await client.post(f"/v1/players/{ids['de2']}/ban", json={}, headers=ADMIN)
    assert response.status_code == 204
    assert [p for _, p, _ in await ranking(client, board_id, "DE")] == [ids["de3"]]
    response = await client.delete(f"/v1/players/{ids['de2']}/ban", headers=ADMIN)
    assert response.status_code == 204
    assert [p for _, p, _ in await ranking(client, board_id, "DE")] == [ids["de2"], ids["de3"]]
    response = await client.delete(f"/v1/players/{ids['de3']}", headers=ADMIN)
    assert response.status_code == 204
    assert [p for _, p, _ in await ranking(client, board_id, "DE")] == [ids["de2"]]


async def test_a_lost_country_index_is_built_again(
    client: Client, database_url: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    board_id, _ = await world(client, database_url)
    before = await ranking(client, board_id, "DE")
    segment = Keys(redis_key_prefix).index(board_id, "all", "DE")
    assert await redis.exists(segment.ready) == 1
    await redis.unlink(segment.scores, segment.members, segment.distinct, segment.ready)
    assert await ranking(client, board_id, "DE") == before


async def test_a_country_on_a_board_without_segments_is_a_400(
    client: Client, database_url: str
) -> None:
    board_id = await create_board(client)
    ((player, _),) = await insert_players(database_url, 1)
    await submit(client, board_id, player, 1)
    for path in ("top", f"players/{player}", f"players/{player}/around", "histogram"):
        response = await client.get(f"/v1/leaderboards/{board_id}/{path}", params={"country": "DE"})
        assert response.status_code == 400, path
        assert "country" in response.json()["detail"]
    segmented = await create_board(client, segments=["country"])
    for bad in ("DEU", "D1", "ü1"):
        response = await client.get(f"/v1/leaderboards/{segmented}/top", params={"country": bad})
        assert response.status_code == 400, bad
        assert "country" in response.json()["detail"]
    response = await client.post(
        "/v1/leaderboards", json={"id": "bad-segments", "segments": ["city"]}, headers=ADMIN
    )
    assert response.status_code == 400
    assert "segments" in response.json()["detail"]
    response = await client.patch(
        f"/v1/leaderboards/{segmented}", json={"segments": []}, headers=ADMIN
    )
    assert response.status_code == 400
    assert "segments" in response.json()["detail"]


async def test_a_void_moves_the_country_ranking_too(client: Client, database_url: str) -> None:
    board_id, ids = await world(client, database_url)
    # de1's better run (95) is voided: back to 90, still first in DE; de2's only run
    # voided: gone from DE.
    better = await submit(client, board_id, ids["de1"], 95)
    assert (await ranking(client, board_id, "DE"))[0] == (1, ids["de1"], 95)
    listed = await client.get(
        f"/v1/leaderboards/{board_id}/players/{ids['de2']}/submissions", headers=ADMIN
    )
    (only,) = listed.json()["submissions"]
    for sid in (better["submission_id"], only["id"]):
        response = await client.post(
            f"/v1/submissions/{sid}/void", json={"reason": "replay"}, headers=ADMIN
        )
        assert response.status_code == 200, response.text
    assert await ranking(client, board_id, "DE") == [(1, ids["de1"], 90), (2, ids["de3"], 50)]


async def test_a_player_who_moves_back_is_ranked_in_their_first_country_again(
    client: Client, database_url: str
) -> None:
    """DE → FR → DE: the way out of DE must not keep DE from taking the player back."""
    board_id, ids = await world(client, database_url)
    assert len(await ranking(client, board_id, "DE")) == 3  # both built now
    assert len(await ranking(client, board_id, "FR")) == 2
    await set_country(client, ids["de1"], "FR")
    assert ids["de1"] not in [p for _, p, _ in await ranking(client, board_id, "DE")]
    await set_country(client, ids["de1"], "DE")
    assert [p for _, p, _ in await ranking(client, board_id, "DE")] == [
        ids["de1"], ids["de2"], ids["de3"]
    ]  # fmt: skip
    assert [p for _, p, _ in await ranking(client, board_id, "FR")] == [ids["fr1"], ids["fr2"]]
    # And their next submission counts there.
    await submit(client, board_id, ids["de1"], 99)
    assert (await ranking(client, board_id, "DE"))[0] == (1, ids["de1"], 99)
