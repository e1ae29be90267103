"""``overtaken`` events: the nearest players a move passes, each told once, by the apply script.

The events are read back from the board's event stream, which the same script writes
right before it publishes each one (pub/sub delivery: tests/system/events/test_events_http.py).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from tests.scores_helpers import create_board, insert_players, submit

pytestmark = pytest.mark.redis_modes


async def events_after(
    redis: AnyRedis, prefix: str, board_id: str, after: str = "-"
) -> list[dict[str, Any]]:
    entries: list[tuple[str, dict[str, str]]] = await redis.xrange(  # type: ignore[assignment]
        Keys(prefix).events_stream(board_id), min=after
    )
    return [json.loads(fields["event"]) | {"id": entry_id} for entry_id, fields in entries]


async def test_a_move_tells_each_player_it_passed(
    live: httpx.AsyncClient, database_url: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    board_id = await create_board(live)
    players = [player for player, _ in await insert_players(database_url, 6)]
    for i, player in enumerate(players):  # ranks: players[5] first … players[0] last
        await submit(live, board_id, player, 10 * (i + 1))
    before = await events_after(redis, redis_key_prefix, board_id)
    mover = players[0]
    moved = await submit(live, board_id, mover, 55)  # from 6th to 2nd: passes four
    assert (moved["previous_rank"], moved["rank"]) == (6, 2)
    new = (await events_after(redis, redis_key_prefix, board_id))[len(before) :]
    assert [e["type"] for e in new] == ["rank_changed"] + ["overtaken"] * 4
    overtaken = new[1:]
    assert [(e["player_id"], e["rank"], e["previous_rank"]) for e in overtaken] == [
        (players[4], 3, 2),
        (players[3], 4, 3),
        (players[2], 5, 4),
        (players[1], 6, 5),
    ], "nearest first, each now one place lower"
    assert {e["by"] for e in overtaken} == {mover}
    assert {e["leaderboard"] for e in overtaken} == {board_id}
    assert all(e["period"] is None and e["at"] for e in overtaken)
    # A move down or in place passes nobody.
    await submit(live, board_id, mover, 55)
    latest = await events_after(redis, redis_key_prefix, board_id, after=f"({new[-1]['id']}")
    assert latest == []


async def test_only_the_nearest_get_told(
    live: httpx.AsyncClient, database_url: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    board_id = await create_board(live, overtake_events=2)
    players = [player for player, _ in await insert_players(database_url, 6)]
    for i, player in enumerate(players):
        await submit(live, board_id, player, 10 * (i + 1))
    newcomer = str((await insert_players(database_url, 1))[0][0])
    before = await events_after(redis, redis_key_prefix, board_id)
    await submit(live, board_id, newcomer, 1000)  # a first entry at the top passes all six
    new = (await events_after(redis, redis_key_prefix, board_id))[len(before) :]
    assert [(e["type"], e.get("player_id")) for e in new[1:]] == [
        ("overtaken", players[5]),
        ("overtaken", players[4]),
    ]
    quiet = await create_board(live, overtake_events=0)
    for i, player in enumerate(players[:3]):
        await submit(live, quiet, player, 3 - i)
    await submit(live, quiet, players[2], 100)
    assert {e["type"] for e in await events_after(redis, redis_key_prefix, quiet)} == {
        "rank_changed"
    }


async def test_concurrent_moves_tell_exactly_the_players_passed(
    live: httpx.AsyncClient, database_url: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    """Twenty players climb at once: every overtaken event matches the ranks at the moment
    its move was applied (the script computes both in one step)."""
    board_id = await create_board(live, overtake_events=100, operator="sum")
    players = [player for player, _ in await insert_players(database_url, 20)]
    for i, player in enumerate(players):
        await submit(live, board_id, player, i)
    start = await events_after(redis, redis_key_prefix, board_id)
    await asyncio.gather(*(submit(live, board_id, p, 7 * (20 - i)) for i, p in enumerate(players)))
    events = (await events_after(redis, redis_key_prefix, board_id))[len(start) :]
    # Replay the stream: each rank_changed moves its player; the overtaken events after
    # it must name exactly the players it passed, in order.
    order = sorted(players, key=lambda p: -players.index(p))  # current ranking, best first
    i = 0
    while i < len(events):
        change = events[i]
        assert change["type"] == "rank_changed"
        player = change["player_id"]
        old, new = change["previous_rank"] - 1, change["rank"] - 1
        assert order.index(player) == old
        order.remove(player)
        order.insert(new, player)
        passed = order[new + 1 : old + 1]
        told = []
        i += 1
        while i < len(events) and events[i]["type"] == "overtaken":
            told.append((events[i]["player_id"], events[i]["rank"] - 1))
            i += 1
        assert told == [(p, order.index(p)) for p in passed]
