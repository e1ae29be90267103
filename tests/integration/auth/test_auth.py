"""Device sign-in and sessions, through the app over real Postgres and Redis."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from leaderboard.auth.sessions import SessionStore, parse_token
from leaderboard.lib.keys import Keys
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.lib.settings import Settings
from leaderboard.server.app import create_app
from tests.conftest import ADMIN
from tests.helpers import async_wait_until, sign_in


async def test_first_call_creates_later_calls_return_the_same_player(
    client: AsyncTestClient[Litestar],
) -> None:
    device = f"device-{uuid.uuid4()}"
    first = await client.post("/v1/auth/device", json={"device_id": device})
    second = await client.post("/v1/auth/device", json={"device_id": device})
    assert first.status_code == second.status_code == 200
    a, b = first.json(), second.json()
    assert a["created"] is True
    assert b["created"] is False
    assert a["player_id"] == b["player_id"]
    assert str(uuid.UUID(a["player_id"])) == a["player_id"]
    assert a["token"] != b["token"]
    for token in (a["token"], b["token"]):
        me = await client.get("/v1/players/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["player_id"] == a["player_id"]


async def test_tokens_carry_256_random_bits_and_expire_in_a_day(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.post("/v1/auth/device", json={"device_id": "device-bits"})
    payload = response.json()
    secret = payload["token"].split(".", 1)[1]
    assert len(secret) == 43  # base64url of 32 bytes
    expires = msgspec.convert(payload["expires_at"], type=__import__("datetime").datetime)
    remaining = expires.timestamp() - __import__("time").time()
    assert 86400 - 60 < remaining <= 86400 + 1


async def test_display_name_is_taken_on_creation(client: AsyncTestClient[Litestar]) -> None:
    _, headers = await sign_in(client, display_name="Ada")
    assert (await client.get("/v1/players/me", headers=headers)).json()["display_name"] == "Ada"


async def test_only_the_device_hash_is_stored(
    client: AsyncTestClient[Litestar], database_url: str
) -> None:
    device = f"device-secret-{uuid.uuid4()}"
    player_id, _ = await sign_in(client, device)
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("SELECT * FROM players WHERE id = $1", player_id)
    finally:
        await conn.close()
    assert row is not None
    assert bytes(row["device_hash"]) == hashlib.sha256(device.encode()).digest()
    assert device not in repr(dict(row))


async def test_racing_first_sign_ins_create_one_player(live: httpx.AsyncClient) -> None:
    device = f"device-race-{uuid.uuid4()}"
    responses = await asyncio.gather(
        *(live.post("/v1/auth/device", json={"device_id": device}) for _ in range(10))
    )
    payloads = [r.json() for r in responses]
    assert len({p["player_id"] for p in payloads}) == 1
    assert sum(p["created"] for p in payloads) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"device_id": "short"}, "device_id"),
        ({"device_id": "x" * 129}, "device_id"),
        ({"device_id": 12345678}, "device_id"),
        ({}, "device_id"),
        ({"device_id": "device-ok-1", "display_name": ""}, "display_name"),
        ({"device_id": "device-ok-1", "display_name": "x" * 65}, "display_name"),
        ({"device_id": "device-ok-1", "player_id": str(uuid.uuid4())}, "player_id"),
    ],
)
async def test_bad_sign_in_bodies_are_400_naming_the_field(
    client: AsyncTestClient[Litestar], body: dict[str, object], field: str
) -> None:
    response = await client.post("/v1/auth/device", json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]


async def test_logout_ends_the_session_at_once(client: AsyncTestClient[Litestar]) -> None:
    _, headers = await sign_in(client)
    assert (await client.delete("/v1/auth/session", headers=headers)).status_code == 204
    after = await client.get("/v1/players/me", headers=headers)
    assert after.status_code == 401
    assert after.json()["status_code"] == 401
    assert (await client.delete("/v1/auth/session", headers=headers)).status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-token",
        f"Bearer {uuid.uuid4()}.{'A' * 43}",  # well-formed, unknown
        f"Bearer {uuid.uuid4()}.{'A' * 42}",
        "Bearer " + "x" * 5000,
    ],
)
async def test_missing_malformed_or_unknown_tokens_are_401(
    client: AsyncTestClient[Litestar], authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.get("/v1/players/me", headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"]


async def test_a_token_naming_another_player_is_refused(
    client: AsyncTestClient[Litestar],
) -> None:
    """The player id in a token only routes the lookup; the secret decides."""
    _, headers = await sign_in(client)
    victim, _ = await sign_in(client)
    secret = headers["Authorization"].split(".", 1)[1]
    forged = {"Authorization": f"Bearer {victim}.{secret}"}
    assert (await client.get("/v1/players/me", headers=forged)).status_code == 401


async def test_the_admin_token_is_not_a_player(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/v1/players/me", headers=ADMIN)).status_code == 403
    assert (await client.delete("/v1/auth/session", headers=ADMIN)).status_code == 403


async def test_device_sign_in_is_throttled_per_client_address(
    settings: Settings, redis: Redis, database_url: str
) -> None:
    limited = msgspec.structs.replace(settings, auth_rate_limit=3, auth_rate_window_seconds=60)
    async with AsyncTestClient(app=create_app(limited)) as client:
        accepted = [
            await client.post("/v1/auth/device", json={"device_id": f"device-{i}-{uuid.uuid4()}"})
            for i in range(3)
        ]
        assert [r.status_code for r in accepted] == [200, 200, 200]
        assert [r.headers["ratelimit-remaining"] for r in accepted] == ["2", "1", "0"]
        assert all(r.headers["ratelimit-limit"] == "3" for r in accepted)
        throttled_device = f"device-throttled-{uuid.uuid4()}"
        throttled = await client.post("/v1/auth/device", json={"device_id": throttled_device})
    assert throttled.status_code == 429
    assert throttled.json()["status_code"] == 429
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    assert throttled.headers["ratelimit-remaining"] == "0"
    conn = await asyncpg.connect(database_url)
    try:
        created = await conn.fetchval(
            "SELECT count(*) FROM players WHERE device_hash = $1",
            hashlib.sha256(throttled_device.encode()).digest(),
        )
    finally:
        await conn.close()
    assert created == 0, "a throttled sign-in writes nothing"


async def test_sign_in_fails_closed_when_redis_is_down(settings: Settings) -> None:
    down = msgspec.structs.replace(settings, redis_url="redis://127.0.0.1:1/0")
    async with AsyncTestClient(app=create_app(down)) as client:
        response = await client.post("/v1/auth/device", json={"device_id": "device-nore"})
    assert response.status_code == 503
    assert response.json()["dependency"] == "redis"


# -- the session store itself, with short lifetimes ---------------------------------


@pytest.fixture
def keys(redis_key_prefix: str) -> Keys:
    return Keys(redis_key_prefix)


async def test_a_session_expires_after_its_idle_ttl(redis: Redis, keys: Keys) -> None:
    store = SessionStore(ScriptPipeline(redis), keys, ttl_seconds=1, max_age_seconds=60)
    session = await store.create(str(uuid.uuid4()))
    assert await store.resolve(session.token) is not None

    async def expired() -> bool:
        return await store.resolve(session.token) is None

    took = await async_wait_until(expired, 5, "the idle session to expire")
    assert took >= 0.5


async def test_use_slides_the_expiry_but_not_past_the_maximum_age(redis: Redis, keys: Keys) -> None:
    store = SessionStore(
        ScriptPipeline(redis), keys, ttl_seconds=1, max_age_seconds=3, refresh_interval_ms=100
    )
    player_id = str(uuid.uuid4())
    session = await store.create(player_id)
    loop = asyncio.get_running_loop()
    started = loop.time()
    # Used every 0.2 s, it outlives its 1 s idle TTL …
    while loop.time() - started < 2.0:
        assert await store.resolve(session.token) == player_id
        await asyncio.sleep(0.2)

    # … but not its 3 s maximum age, however busy it is.
    async def ended() -> bool:
        return await store.resolve(session.token) is None

    await async_wait_until(ended, 3, "the session to reach its maximum age")
    assert loop.time() - started < 3.0 + 1.0


async def test_refresh_writes_at_most_once_per_interval(redis: Redis, keys: Keys) -> None:
    store = SessionStore(ScriptPipeline(redis), keys, ttl_seconds=3600, max_age_seconds=7200)
    player_id = str(uuid.uuid4())
    session = await store.create(player_id)
    parsed = parse_token(session.token)
    assert parsed is not None
    key = keys.session(player_id, parsed.token_hash)
    touched = await redis.hget(key, "touched_ms")
    for _ in range(5):
        await store.resolve(session.token)
    assert await redis.hget(key, "touched_ms") == touched


async def test_end_all_ends_every_session_of_a_player(redis: Redis, keys: Keys) -> None:
    store = SessionStore(ScriptPipeline(redis), keys, ttl_seconds=3600, max_age_seconds=7200)
    player_id, other = str(uuid.uuid4()), str(uuid.uuid4())
    mine = [await store.create(player_id) for _ in range(3)]
    theirs = await store.create(other)
    assert await store.end_all(player_id) == 3
    for session in mine:
        assert await store.resolve(session.token) is None
    assert await store.resolve(theirs.token) == other


async def test_session_keys_hold_no_token_and_all_have_ttls(
    redis: Redis, keys: Keys, redis_key_prefix: str
) -> None:
    store = SessionStore(ScriptPipeline(redis), keys, ttl_seconds=3600, max_age_seconds=7200)
    sessions = [await store.create(str(uuid.uuid4())) for _ in range(5)]
    seen = 0
    async for key in redis.scan_iter(match=f"{redis_key_prefix}*"):
        seen += 1
        ttl = await redis.pttl(key)
        assert 0 < ttl <= 7200 * 1000, key
        dump = str(await redis.hgetall(key) if await redis.type(key) == "hash" else key)
        for session in sessions:
            assert session.token.split(".", 1)[1] not in dump
    assert seen == 10  # a session hash and a player set each


async def test_expired_sessions_do_not_pile_up_in_the_players_set(redis: Redis, keys: Keys) -> None:
    store = SessionStore(ScriptPipeline(redis), keys, ttl_seconds=3600, max_age_seconds=7200)
    player_id = str(uuid.uuid4())
    sessions = [await store.create(player_id) for _ in range(20)]
    for session in sessions[:15]:  # as if they had expired
        parsed = parse_token(session.token)
        assert parsed is not None
        await redis.unlink(keys.session(player_id, parsed.token_hash))
    fresh = await store.create(player_id)
    assert await redis.scard(keys.player_sessions(player_id)) == 6
    assert await store.resolve(fresh.token) == player_id
    assert await store.end_all(player_id) == 6
