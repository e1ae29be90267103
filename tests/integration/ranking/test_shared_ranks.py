"""Shared ranks: ordinal, competition and dense numbers of the same order of entries.

The numbers are checked against a reference computed here from the served order, also
after random changes, removals and a lost index (the distinct scores are rebuilt).
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from tests.conftest import ADMIN
from tests.scores_helpers import create_board, insert_players, submit

pytestmark = pytest.mark.redis_modes
Client = AsyncTestClient[Litestar]
STYLES = ("ordinal", "competition", "dense")


def reference(scores: list[int], style: str) -> list[int]:
    """The ranks of ``scores`` (best first) in ``style``."""
    ranks: list[int] = []
    for position, score in enumerate(scores):
        if style == "ordinal" or position == 0:
            ranks.append(position + 1)
        elif score == scores[position - 1]:
            ranks.append(ranks[-1])
        else:
            ranks.append(position + 1 if style == "competition" else ranks[-1] + 1)
    return ranks


async def read(client: Client, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def tied_board(client: Client, database_url: str, **spec: Any) -> tuple[str, list[str]]:
    """Five players scoring 100, 90, 90, 80, 80 (reached in that order)."""
    board_id = await create_board(client, **spec)
    players = [player for player, _ in await insert_players(database_url, 5)]
    for player, score in zip(players, [100, 90, 90, 80, 80], strict=True):
        await submit(client, board_id, player, score)
    return board_id, players


async def test_ties_are_numbered_in_each_style_in_the_same_order(
    client: Client, database_url: str
) -> None:
    board_id, players = await tied_board(client, database_url, ranks="competition")
    board = (await client.get(f"/v1/leaderboards/{board_id}")).json()
    assert board["ranks"] == "competition"
    expected = {
        None: [1, 2, 2, 4, 4],  # the board's
        "ordinal": [1, 2, 3, 4, 5],
        "competition": [1, 2, 2, 4, 4],
        "dense": [1, 2, 2, 3, 3],
    }
    for style, ranks in expected.items():
        params = {} if style is None else {"ranks": style}
        page = await read(client, f"/v1/leaderboards/{board_id}/top", **params)
        assert [e["player_id"] for e in page["entries"]] == players, "one order"
        assert [e["rank"] for e in page["entries"]] == ranks, style
        # A page that starts inside a tie numbers it as the whole board does.
        page = await read(client, f"/v1/leaderboards/{board_id}/top", offset=2, limit=2, **params)
        assert [e["rank"] for e in page["entries"]] == ranks[2:4], style


async def test_entry_around_and_friends_follow_the_style(client: Client, database_url: str) -> None:
    board_id, players = await tied_board(client, database_url, ranks="dense")
    entry = await read(client, f"/v1/leaderboards/{board_id}/players/{players[4]}")
    assert (entry["rank"], entry["to_next"], entry["percentile"]) == (3, 10, 0.0)
    second = await read(client, f"/v1/leaderboards/{board_id}/players/{players[2]}")
    # Tied with the one above: to equal the next better score takes 10 points.
    assert (second["rank"], second["to_next"]) == (2, 10)
    top = await read(client, f"/v1/leaderboards/{board_id}/players/{players[0]}")
    assert (top["rank"], top["to_next"]) == (1, None)
    ordinal = await read(
        client, f"/v1/leaderboards/{board_id}/players/{players[2]}", ranks="ordinal"
    )
    assert (ordinal["rank"], ordinal["to_next"]) == (3, 1)  # passing the tie: one point
    competition = await read(
        client, f"/v1/leaderboards/{board_id}/players/{players[4]}", ranks="competition"
    )
    assert (competition["rank"], competition["to_next"]) == (4, 10)
    around = await read(
        client, f"/v1/leaderboards/{board_id}/players/{players[3]}/around", radius=1
    )
    assert [e["rank"] for e in around["entries"]] == [2, 3, 3]
    friends = await read(
        client,
        f"/v1/leaderboards/{board_id}/players",
        ids=f"{players[4]},{players[1]}",
        ranks="competition",
    )
    assert [(e["player_id"], e["rank"]) for e in friends["entries"]] == [
        (players[1], 2),
        (players[4], 4),
    ]


@pytest.mark.parametrize(
    "path", ["top", "players/{p}", "players/{p}/around", "players", "histogram"]
)
async def test_another_style_is_a_400_naming_ranks(
    client: Client, database_url: str, path: str
) -> None:
    board_id, players = await tied_board(client, database_url)
    url = f"/v1/leaderboards/{board_id}/" + path.format(p=players[0])
    params = {"ids": players[0]} if path == "players" else {}
    response = await client.get(url, params={**params, "ranks": "olympic"})
    assert response.status_code == 400, response.text
    assert "ranks" in response.json()["detail"]
    assert (await client.get(url, params={**params, "ranks": "dense"})).status_code == 200


async def test_a_board_with_another_style_is_a_400(client: Client) -> None:
    response = await client.post(
        "/v1/leaderboards", json={"id": "bad-ranks", "ranks": "olympic"}, headers=ADMIN
    )
    assert response.status_code == 400
    assert "ranks" in response.json()["detail"]


async def test_answers_and_events_follow_the_boards_style(
    client: Client, database_url: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    board_id = await create_board(client, ranks="competition", order="asc")
    players = [player for player, _ in await insert_players(database_url, 4)]
    assert (await submit(client, board_id, players[0], 10))["rank"] == 1
    assert (await submit(client, board_id, players[1], 20))["rank"] == 2
    tied = await submit(client, board_id, players[2], 20)
    assert (tied["rank"], tied["previous_rank"]) == (2, None)
    # players[3] enters last, then ties the leader: competition rank 1, passing two.
    await submit(client, board_id, players[3], 30)
    moved = await submit(client, board_id, players[3], 10)
    assert (moved["rank"], moved["previous_rank"]) == (1, 4)
    stream = Keys(redis_key_prefix).events_stream(board_id)
    entries: list[tuple[str, dict[str, str]]] = await redis.xrange(stream)  # type: ignore[assignment]
    events = [json.loads(fields["event"]) for _, fields in entries]
    changed = [e for e in events if e["type"] == "rank_changed"]
    assert [(e["rank"], e["previous_rank"]) for e in changed] == [
        (1, None),
        (2, None),
        (2, None),
        (4, None),
        (1, 4),
    ]
    overtaken = [(e["player_id"], e["rank"], e["previous_rank"]) for e in events[-2:]]
    assert overtaken == [(players[1], 3, 2), (players[2], 3, 2)]
    # A PATCH renumbers from the next answer on (the order stays).
    response = await client.patch(
        f"/v1/leaderboards/{board_id}", json={"ranks": "dense"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    page = await read(client, f"/v1/leaderboards/{board_id}/top")
    assert [e["rank"] for e in page["entries"]] == [1, 1, 2, 2]


async def test_random_changes_removals_and_a_lost_index_keep_every_style_exact(
    client: Client, database_url: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    rng = random.Random(27)
    board_id = await create_board(client, operator="latest")
    players = [player for player, _ in await insert_players(database_url, 40)]
    keys = Keys(redis_key_prefix).index(board_id, "all")

    async def check() -> None:
        for style in STYLES:
            page = await read(client, f"/v1/leaderboards/{board_id}/top", limit=100, ranks=style)
            scores = [e["score"] for e in page["entries"]]
            assert [e["rank"] for e in page["entries"]] == reference(scores, style), style
            assert page["total"] == len(scores)
        assert await redis.zcard(keys.distinct) == len(set(scores))

    for round_ in range(4):
        for player in rng.sample(players, 25):
            await submit(client, board_id, player, rng.randint(0, 8))  # many ties
        removed = rng.choice(players)
        response = await client.delete(
            f"/v1/leaderboards/{board_id}/players/{removed}", headers=ADMIN
        )
        assert response.status_code == 204
        await check()
        if round_ == 1:
            await redis.unlink(keys.distinct)  # lost: the next read rebuilds the index
        if round_ == 2:
            await redis.unlink(keys.scores, keys.members, keys.distinct)


async def test_concurrent_submissions_keep_every_style_exact(
    client: Client, database_url: str
) -> None:
    """Submissions of many players at once (sums, many ties): the numbers stay exact."""
    rng = random.Random(38)
    board_id = await create_board(client, operator="sum")
    players = [player for player, _ in await insert_players(database_url, 30)]
    sends = [(rng.choice(players), rng.choice([-2, -1, 1, 2, 3])) for _ in range(150)]
    answers = await asyncio.gather(
        *(submit(client, board_id, player, value) for player, value in sends)
    )
    assert len(answers) == len(sends)
    for style in STYLES:
        page = await read(client, f"/v1/leaderboards/{board_id}/top", limit=100, ranks=style)
        scores = [e["score"] for e in page["entries"]]
        assert scores == sorted(scores, reverse=True)
        assert [e["rank"] for e in page["entries"]] == reference(scores, style), style
        for entry in page["entries"][:5]:
            mine = await read(
                client,
                f"/v1/leaderboards/{board_id}/players/{entry['player_id']}",
                ranks=style,
            )
            assert mine["rank"] == entry["rank"], style
