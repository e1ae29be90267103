"""A league submission whose session the worker does not know checks it with its rate limit.

As for a board (tests/integration/scores/test_session_in_admission.py): two app instances
stand for two worker processes; a player signs in through one and submits through the
other, which has never seen the token. The one script call before the commit
(leagues/admit.lua) checks the session and takes the rate-limit slot; a bad token is still
a 401 whatever else is wrong, and nothing is written or throttled for it.
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
from tests.league_helpers import create_league

pytestmark = pytest.mark.redis_modes
Http = httpx.AsyncClient


async def post(http: Http, league_id: str, headers: dict[str, str], body: Any) -> httpx.Response:
    return await http.post(f"/v1/leagues/{league_id}/scores", json=body, headers=headers)


async def standing(http: Http, league_id: str, player: str) -> int | None:
    """The player's score this season, None when they have not played."""
    response = await http.get(f"/v1/leagues/{league_id}/players/{player}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    score: int = response.json()["score"]
    return score


async def test_an_unknown_session_is_checked_in_the_rate_limit_call(
    workers: Workers, redis: AnyRedis, settings: Settings
) -> None:
    a, b = workers
    league_id = (await create_league(a))["id"]
    _, warm = await sign_in(b)
    assert (await post(b, league_id, warm, {"score": 1})).status_code == 200
    player, headers = await sign_in(a)  # worker b has never seen this token
    batcher = workers.services[1].infra.pipeline.batcher
    before = batcher.items_sent
    response = await post(b, league_id, headers, {"score": 10})
    assert response.status_code == 200, response.text
    assert response.json()["score"] == 10
    assert response.headers["RateLimit-Limit"] == "10000"
    # The admission (session + rate limit) and the cohort: two script calls, not three.
    assert batcher.items_sent - before == 2
    # Worker b keeps the session it checked there; worker a never held a copy.
    await redis.delete(session_key(settings.redis_key_prefix, headers))
    assert (await b.get("/v1/players/me", headers=headers)).status_code == 200
    assert (await a.get("/v1/players/me", headers=headers)).status_code == 401
    assert await standing(a, league_id, player) == 10


@pytest.mark.parametrize("how", ["logout", "expired", "forged"])
async def test_a_dead_session_is_refused_and_nothing_is_written(
    workers: Workers, redis: AnyRedis, settings: Settings, how: str
) -> None:
    a, b = workers
    league_id = (await create_league(a, rate_limit={"limit": 1, "window_seconds": 60}))["id"]
    player, headers = await sign_in(a)
    if how == "logout":
        assert (await a.delete("/v1/auth/session", headers=headers)).status_code == 204
    elif how == "expired":
        await redis.delete(session_key(settings.redis_key_prefix, headers))
    else:  # a well-formed token naming the player, with a secret nobody issued
        headers = {"Authorization": f"Bearer {player}.{'x' * 43}"}
    response = await post(b, league_id, headers, {"score": 10})
    assert response.status_code == 401, response.text
    assert_error_shape(response.json(), 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await standing(a, league_id, player) is None
    # Nothing was throttled either: the player's one slot of the league is still free.
    ok = await post(a, league_id, ADMIN, {"score": 5, "player_id": player})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    ("body", "refused_as"),
    [
        ({"score": "10"}, 400),
        ({"score": 1.5}, 400),
        ({"score": 10, "zzz": 1}, 400),
        ({"score": 10, "player_id": str(uuid.uuid4())}, 403),  # someone else's
        ({"score": 10**20}, 400),
        ([1, 2], 400),
    ],
)
async def test_a_bad_token_is_a_401_whatever_else_is_wrong(
    workers: Workers, redis: AnyRedis, settings: Settings, body: Any, refused_as: int
) -> None:
    a, b = workers
    league_id = (await create_league(a))["id"]
    player, headers = await sign_in(a)
    live = await post(b, league_id, headers, body)
    assert live.status_code == refused_as, live.text
    _, other = await sign_in(a)
    await redis.delete(session_key(settings.redis_key_prefix, other))
    dead = await post(b, league_id, other, body)
    assert dead.status_code == 401, dead.text
    assert await standing(a, league_id, player) is None


async def test_an_unknown_league_with_a_bad_token_is_a_401(
    workers: Workers, redis: AnyRedis, settings: Settings
) -> None:
    a, b = workers
    _, headers = await sign_in(a)
    unknown = f"lg-nope-{uuid.uuid4().hex[:8]}"
    assert (await post(b, unknown, headers, {"score": 1})).status_code == 404
    await redis.delete(session_key(settings.redis_key_prefix, headers))
    _, other = await sign_in(a)
    await redis.delete(session_key(settings.redis_key_prefix, other))
    assert (await post(b, unknown, other, {"score": 1})).status_code == 401


async def test_a_throttled_submission_still_checks_the_session_first(
    workers: Workers, redis: AnyRedis, settings: Settings
) -> None:
    a, b = workers
    league_id = (await create_league(a, rate_limit={"limit": 1, "window_seconds": 60}))["id"]
    player, headers = await sign_in(a)
    assert (await post(b, league_id, headers, {"score": 3})).status_code == 200
    # Worker a has not seen the session: its admission checks it, then throttles.
    throttled = await post(a, league_id, headers, {"score": 4})
    assert throttled.status_code == 429, throttled.text
    assert throttled.headers["RateLimit-Remaining"] == "0"
    assert await standing(a, league_id, player) == 3
