"""Moderation: removing one entry, banning and unbanning players."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.ranking.values import member_for, seq_hex
from tests.conftest import ADMIN
from tests.helpers import sign_in
from tests.scores_helpers import create_board, top

pytestmark = pytest.mark.redis_modes
Client = AsyncTestClient[Litestar]


async def post_score(client: httpx.AsyncClient, board_id: str, player: str, score: int) -> Any:
    return await client.post(
        f"/v1/leaderboards/{board_id}/scores",
        json={"score": score, "player_id": player},
        headers=ADMIN,
    )


async def players_of(client: Client, count: int) -> list[tuple[str, dict[str, str]]]:
    return [await sign_in(client) for _ in range(count)]


def ranking(page: dict[str, Any]) -> list[tuple[int, str, int]]:
    return [(e["rank"], e["player_id"], e["score"]) for e in page["entries"]]


async def test_removing_an_entry_closes_the_ranks_up_and_says_so(
    client: Client, redis: AnyRedis, redis_key_prefix: str
) -> None:
    board_id = await create_board(client)
    players = [player for player, _ in await players_of(client, 4)]
    for i, player in enumerate(players):
        assert (await post_score(client, board_id, player, 10 * (i + 1))).is_success
    url = f"/v1/leaderboards/{board_id}/players/{players[2]}"
    assert (await client.delete(url, headers=ADMIN)).status_code == 204
    page = await top(client, board_id)
    assert ranking(page) == [(1, players[3], 40), (2, players[1], 20), (3, players[0], 10)]
    assert page["total"] == 3
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url, headers=ADMIN)).status_code == 404, "gone already"
    stream = Keys(redis_key_prefix).events_stream(board_id)
    entries: list[tuple[str, dict[str, str]]] = await redis.xrange(stream)  # type: ignore[assignment]
    last = json.loads(entries[-1][1]["event"])
    assert last == {
        "type": "entry_removed",
        "leaderboard": board_id,
        "span": "never",
        "period": None,
        "player_id": players[2],
        "at": last["at"],
    }
    # The player may play on: a new entry.
    assert (await post_score(client, board_id, players[2], 5)).json()["rank"] == 4


async def test_only_the_admin_removes_entries(client: Client) -> None:
    board_id = await create_board(client)
    (player, headers), (other, _) = await players_of(client, 2)
    await post_score(client, board_id, player, 1)
    url = f"/v1/leaderboards/{board_id}/players/{player}"
    assert (await client.delete(url, headers=headers)).status_code == 403, "not even one's own"
    assert (await client.delete(url)).status_code == 401
    assert (
        await client.delete(f"/v1/leaderboards/nope/players/{player}", headers=ADMIN)
    ).status_code == 404
    missing = f"/v1/leaderboards/{board_id}/players/{other}"
    assert (await client.delete(missing, headers=ADMIN)).status_code == 404


async def hidden_rows(database_url: str, player: str) -> list[bool]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT hidden FROM scores WHERE player_id = $1", uuid.UUID(player))
    finally:
        await conn.close()
    return [row["hidden"] for row in rows]


async def test_a_ban_hides_the_player_everywhere_and_an_unban_restores_exact_ranks(
    client: Client, database_url: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    boards = [
        await create_board(client),
        await create_board(client, order="asc"),
        await create_board(client, reset="daily"),
    ]
    roster = await players_of(client, 5)
    cheater, cheater_headers = roster[2]
    # Ties everywhere: who reached a score first must survive the ban and the unban.
    for board_id in boards:
        for player, _ in roster:
            assert (await post_score(client, board_id, player, 50)).is_success
    before = [ranking(await top(client, board_id)) for board_id in boards]

    ban = await client.post(f"/v1/players/{cheater}/ban", json={"reason": "aimbot"}, headers=ADMIN)
    assert ban.status_code == 204, ban.text
    for board_id, ranks in zip(boards, before, strict=True):
        page = await top(client, board_id)
        assert cheater not in [e["player_id"] for e in page["entries"]]
        assert page["total"] == 4
        assert [p for _, p, _ in ranking(page)] == [p for _, p, _ in ranks if p != cheater]
        entry = await client.get(f"/v1/leaderboards/{board_id}/players/{cheater}")
        assert entry.status_code == 404
    assert await hidden_rows(database_url, cheater) == [True] * 3, "kept in Postgres"
    assert (await client.get("/v1/players/me", headers=cheater_headers)).status_code == 401
    refused = await post_score(client, boards[0], cheater, 99)
    assert refused.status_code == 403, refused.text
    again = await client.post("/v1/auth/device", json={"device_id": "x" * 8})
    assert again.status_code == 200  # someone else's device: fine

    # A rebuild from Postgres leaves the banned player out too (an entry read, never
    # cached, rebuilds the lost index).
    keys = Keys(redis_key_prefix).index(boards[0], "all")
    await redis.unlink(keys.ready, keys.scores, keys.members)
    honest = await client.get(f"/v1/leaderboards/{boards[0]}/players/{roster[0][0]}")
    assert honest.json()["total"] == 4
    assert await redis.exists(keys.ready) == 1

    assert (await client.delete(f"/v1/players/{cheater}/ban", headers=ADMIN)).status_code == 204
    after = [ranking(await top(client, board_id)) for board_id in boards]
    assert after == before, "every entry back where it ranked, ties included"
    assert await hidden_rows(database_url, cheater) == [False] * 3


async def test_a_banned_device_cannot_sign_in_again(client: Client) -> None:
    device = f"device-{uuid.uuid4()}"
    player, _ = await sign_in(client, device)
    assert (await client.post(f"/v1/players/{player}/ban", headers=ADMIN)).status_code == 204
    refused = await client.post("/v1/auth/device", json={"device_id": device})
    assert refused.status_code == 403, refused.text
    assert (await client.delete(f"/v1/players/{player}/ban", headers=ADMIN)).status_code == 204
    assert (await client.post("/v1/auth/device", json={"device_id": device})).status_code == 200


async def test_bans_need_the_admin_and_a_real_player(client: Client) -> None:
    player, headers = await sign_in(client)
    assert (await client.post(f"/v1/players/{player}/ban", headers=headers)).status_code == 403
    unknown = str(uuid.uuid4())
    assert (await client.post(f"/v1/players/{unknown}/ban", headers=ADMIN)).status_code == 404
    assert (await client.delete(f"/v1/players/{unknown}/ban", headers=ADMIN)).status_code == 404
    too_long = await client.post(
        f"/v1/players/{player}/ban", json={"reason": "x" * 501}, headers=ADMIN
    )
    assert too_long.status_code == 400
    assert "reason" in too_long.json()["detail"]


async def test_moderation_is_audited(client: Client) -> None:
    board_id = await create_board(client)
    player, _ = await sign_in(client)
    await post_score(client, board_id, player, 3)
    assert (
        await client.delete(f"/v1/leaderboards/{board_id}/players/{player}", headers=ADMIN)
    ).is_success
    assert (
        await client.post(f"/v1/players/{player}/ban", json={"reason": "r"}, headers=ADMIN)
    ).is_success
    assert (await client.delete(f"/v1/players/{player}/ban", headers=ADMIN)).is_success
    entries = (await client.get("/v1/audit?limit=10", headers=ADMIN)).json()["entries"]
    mine = [(e["action"], e["target"]) for e in entries if player in e["target"]]
    assert mine[:3] == [
        ("player.unban", f"player:{player}"),
        ("player.ban", f"player:{player}"),
        ("entry.remove", f"leaderboard:{board_id}/player:{player}"),
    ]


async def events_of(redis: AnyRedis, prefix: str, board_id: str) -> list[dict[str, Any]]:
    stream = Keys(prefix).events_stream(board_id)
    entries: list[tuple[str, dict[str, str]]] = await redis.xrange(stream)  # type: ignore[assignment]
    return [json.loads(fields["event"]) for _, fields in entries]


async def test_an_unban_announces_each_entry_that_comes_back(
    client: Client, redis: AnyRedis, redis_key_prefix: str
) -> None:
    boards = [await create_board(client), await create_board(client, reset="daily")]
    roster = [player for player, _ in await players_of(client, 3)]
    banned = roster[1]
    for board_id in boards:
        for score, player in zip((30, 20, 10), roster, strict=True):
            assert (await post_score(client, board_id, player, score)).is_success
    assert (await client.post(f"/v1/players/{banned}/ban", headers=ADMIN)).status_code == 204
    assert (await client.delete(f"/v1/players/{banned}/ban", headers=ADMIN)).status_code == 204
    for board_id in boards:
        entry = (await client.get(f"/v1/leaderboards/{board_id}/players/{banned}")).json()
        *_, removed, restored = await events_of(redis, redis_key_prefix, board_id)
        assert removed["type"] == "entry_removed"
        assert restored == {
            "type": "entry_restored",
            "leaderboard": board_id,
            "span": entry["span"],
            "period": entry["period"],  # null on the board that never resets
            "player_id": banned,
            "at": restored["at"],
            "score": 20,
            "previous_score": None,
            "rank": 2,
            "previous_rank": None,
        }
    # Nothing is announced for a player who was not banned.
    again = await client.delete(f"/v1/players/{banned}/ban", headers=ADMIN)
    assert again.status_code == 204
    assert (await events_of(redis, redis_key_prefix, boards[0]))[-1]["type"] == "entry_restored"
    assert len(await events_of(redis, redis_key_prefix, boards[0])) == 3 + 2


async def test_an_entry_put_back_before_the_unban_reached_the_index_is_announced_too(
    client: Client, redis: AnyRedis, redis_key_prefix: str, database_url: str
) -> None:
    """The index check (or a rebuild) may read the unhidden row from Postgres first."""
    board_id = await create_board(client)
    (player, _), (other, _) = await players_of(client, 2)
    assert (await post_score(client, board_id, other, 50)).is_success
    assert (await post_score(client, board_id, player, 70)).is_success
    assert (await client.post(f"/v1/players/{player}/ban", headers=ADMIN)).status_code == 204
    conn = await asyncpg.connect(database_url)
    try:
        seq = await conn.fetchval(
            "SELECT reached_seq FROM scores WHERE leaderboard_id = $1 AND player_id = $2",
            board_id,
            uuid.UUID(player),
        )
    finally:
        await conn.close()
    keys = Keys(redis_key_prefix).index(board_id, "all")
    await redis.zadd(keys.scores, {member_for(seq, player): -70})
    await redis.hset(keys.members, player, seq_hex(seq))
    assert (await client.delete(f"/v1/players/{player}/ban", headers=ADMIN)).status_code == 204
    restored = (await events_of(redis, redis_key_prefix, board_id))[-1]
    assert (restored["type"], restored["player_id"], restored["rank"]) == (
        "entry_restored",
        player,
        1,
    )


async def test_a_banned_players_old_token_is_unknown_and_submissions_for_them_forbidden(
    client: Client,
) -> None:
    """Issue 29: the ban ends their sessions, so the old token is unknown: 401, as any
    unknown token; what still names the player (a submission for them by the admin or a
    server key, a new device sign-in) gets 403."""
    board_id = await create_board(client)
    device = f"device-{uuid.uuid4()}"
    player, headers = await sign_in(client, device)
    assert (await post_score(client, board_id, player, 5)).is_success
    assert (await client.post(f"/v1/players/{player}/ban", headers=ADMIN)).status_code == 204
    own = await client.post(
        f"/v1/leaderboards/{board_id}/scores", json={"score": 9}, headers=headers
    )
    assert own.status_code == 401, own.text
    assert own.headers["www-authenticate"] == "Bearer"
    assert (await post_score(client, board_id, player, 9)).status_code == 403
    signed_in = await client.post("/v1/auth/device", json={"device_id": device})
    assert signed_in.status_code == 403
