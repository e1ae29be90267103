"""A submission whose session the worker does not know checks it in its admission call.

Two app instances stand for two worker processes: a player signs in through one and
submits through the other, which has never seen the token. The submission's one script
call before the commit (scores/admit.lua) checks the session, answers a keyed repeat or
takes the rate-limit slot; a bad token is still a 401 whatever else is wrong with the
request, and nothing is written or throttled for it.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from tests.conftest import ADMIN, Workers
from tests.helpers import assert_error_shape, session_key, sign_in
from tests.scores_helpers import create_board, top

pytestmark = pytest.mark.redis_modes
Http = httpx.AsyncClient


async def post(
    http: Http, board_id: str, headers: dict[str, str], body: Any, **extra: str
) -> httpx.Response:
    return await http.post(
        f"/v1/leaderboards/{board_id}/scores", json=body, headers={**headers, **extra}
    )


async def entries(http: Http, board_id: str) -> list[tuple[str, int]]:
    return [(e["player_id"], e["score"]) for e in (await top(http, board_id))["entries"]]


async def test_an_unknown_session_is_checked_in_the_one_call_before_the_commit(
    workers: Workers, redis: AnyRedis, settings: Settings
) -> None:
    a, b = workers
    board_id = await create_board(a)
    _, warm = await sign_in(b)
    assert (await post(b, board_id, warm, {"score": 1})).status_code == 200  # index built
    player, headers = await sign_in(a)  # worker b has never seen this token
    batcher = workers.services[1].infra.pipeline.batcher
    before = batcher.items_sent
    response = await post(b, board_id, headers, {"score": 10})
    assert response.status_code == 200, response.text
    # The admission (session + rate limit) and the index: two script calls, not three.
    assert batcher.items_sent - before == 2
    # Worker b keeps the session it checked there: deleted behind the service's back, its
    # copy still answers (it lives at most a few seconds; auth/sessions.py).
    await redis.delete(session_key(settings.redis_key_prefix, headers))
    assert (await b.get("/v1/players/me", headers=headers)).status_code == 200
    assert (await a.get("/v1/players/me", headers=headers)).status_code == 401  # no copy
    assert (player, 10) in await entries(a, board_id)


@pytest.mark.parametrize("how", ["logout", "expired", "forged"])
async def test_a_dead_session_is_refused_and_nothing_is_written(
    workers: Workers, redis: AnyRedis, settings: Settings, how: str
) -> None:
    a, b = workers
    board_id = await create_board(a, rate_limit={"limit": 1, "window_seconds": 60})
    player, headers = await sign_in(a)
    if how == "logout":
        assert (await a.delete("/v1/auth/session", headers=headers)).status_code == 204
    elif how == "expired":
        await redis.delete(session_key(settings.redis_key_prefix, headers))
    else:  # a well-formed token naming the player, with a secret nobody issued
        headers = {"Authorization": f"Bearer {player}.{'x' * 43}"}
    response = await post(b, board_id, headers, {"score": 10})
    assert response.status_code == 401, response.text
    assert_error_shape(response.json(), 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await entries(a, board_id) == []
    # Nothing was throttled either: the player's one slot is still free.
    if how != "forged":
        _, fresh = await sign_in(a)  # another player, to show the board takes scores
        assert (await post(b, board_id, fresh, {"score": 5})).status_code == 200


@pytest.mark.parametrize(
    ("body", "extra", "refused_as"),
    [
        ({"score": "10"}, {}, 400),  # Litestar would convert it; the hook refuses it
        ({"score": 1.5}, {}, 400),
        ({"score": 10, "zzz": 1}, {}, 400),
        ({"score": 10, "player_id": str(uuid.uuid4())}, {}, 403),  # someone else's
        ({"score": 10}, {"Idempotency-Key": "k" * 200}, 400),
        ({"score": 10**20}, {}, 400),
        ([1, 2], {}, 400),
    ],
)
async def test_a_bad_token_is_a_401_whatever_else_is_wrong(
    workers: Workers, redis: AnyRedis, settings: Settings, body: Any, extra: dict[str, str],
    refused_as: int,
) -> None:  # fmt: skip
    a, b = workers
    board_id = await create_board(a)
    _, headers = await sign_in(a)
    # With its session live, worker b refuses the request for what is wrong with it ...
    live = await post(b, board_id, headers, body, **extra)
    assert live.status_code == refused_as, live.text
    # ... and with the session gone, for the token (b's copy dropped with a fresh worker's
    # view: the key is deleted and another token of the player is used).
    await redis.delete(session_key(settings.redis_key_prefix, headers))
    _, other = await sign_in(a)
    await redis.delete(session_key(settings.redis_key_prefix, other))
    dead = await post(b, board_id, other, body, **extra)
    assert dead.status_code == 401, dead.text
    assert await entries(a, board_id) == []


async def test_an_unknown_board_with_a_bad_token_is_a_401(
    workers: Workers, redis: AnyRedis, settings: Settings
) -> None:
    a, b = workers
    _, headers = await sign_in(a)
    await redis.delete(session_key(settings.redis_key_prefix, headers))
    response = await post(b, f"nope-{uuid.uuid4().hex[:8]}", headers, {"score": 1})
    assert response.status_code == 401, response.text


async def test_a_keyed_repeat_from_a_worker_that_does_not_know_the_session(
    workers: Workers,
) -> None:
    a, b = workers
    board_id = await create_board(a)
    player, headers = await sign_in(a)
    first = await post(a, board_id, headers, {"score": 10}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 200, first.text
    again = await post(b, board_id, headers, {"score": 10}, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    # The admin's path does not use a session at all.
    admin = await post(b, board_id, ADMIN, {"score": 20, "player_id": player})
    assert admin.status_code == 200, admin.text
