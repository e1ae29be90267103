"""Profile endpoints: read, change, delete, validation and who may do what."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from leaderboard.lib.keys import Keys
from tests.conftest import ADMIN
from tests.helpers import sign_in

PROFILE_FIELDS = {
    "player_id", "display_name", "avatar_url", "country", "metadata",
    "created_at", "updated_at", "version",
}  # fmt: skip


async def test_a_profile_has_the_contract_fields(client: AsyncTestClient[Litestar]) -> None:
    player_id, headers = await sign_in(client, display_name="Grace")
    public = await client.get(f"/v1/players/{player_id}")
    mine = await client.get("/v1/players/me", headers=headers)
    assert public.status_code == mine.status_code == 200
    assert public.json() == mine.json()
    body = public.json()
    assert set(body) == PROFILE_FIELDS
    assert body["display_name"] == "Grace"
    assert body["avatar_url"] is None
    assert body["country"] is None
    assert body["metadata"] == {}
    assert body["version"] == 1
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")


@pytest.mark.parametrize("player_id", [str(uuid.uuid4()), "not-a-uuid", "0" * 200, "%00"])
async def test_unknown_players_are_404(client: AsyncTestClient[Litestar], player_id: str) -> None:
    response = await client.get(f"/v1/players/{player_id}")
    assert response.status_code == 404
    assert response.json()["status_code"] == 404


async def test_patch_changes_and_the_next_read_shows_it(client: AsyncTestClient[Litestar]) -> None:
    player_id, headers = await sign_in(client)
    before = (await client.get(f"/v1/players/{player_id}")).json()  # now cached
    change = {
        "display_name": "Linus",
        "avatar_url": "https://cdn.example/a.png",
        "country": "FI",
        "metadata": {"level": 7, "tags": ["a", "b"]},
    }
    patched = await client.patch(f"/v1/players/{player_id}", json=change, headers=headers)
    assert patched.status_code == 200, patched.text
    after = (await client.get(f"/v1/players/{player_id}")).json()
    assert after == patched.json()
    for field, value in change.items():
        assert after[field] == value
    assert after["version"] == before["version"] + 1
    assert after["updated_at"] > before["updated_at"]
    assert after["created_at"] == before["created_at"]


async def test_null_clears_optional_fields_and_absent_fields_stay(
    client: AsyncTestClient[Litestar],
) -> None:
    player_id, headers = await sign_in(client, display_name="Keep")
    url = f"/v1/players/{player_id}"
    await client.patch(url, json={"country": "JP", "metadata": {"a": 1}}, headers=headers)
    cleared = await client.patch(url, json={"country": None, "metadata": None}, headers=headers)
    assert cleared.status_code == 200
    body = cleared.json()
    assert body["country"] is None
    assert body["metadata"] == {}
    assert body["display_name"] == "Keep"
    assert body["version"] == 3


async def test_the_admin_may_change_any_profile(client: AsyncTestClient[Litestar]) -> None:
    player_id, _ = await sign_in(client)
    response = await client.patch(
        f"/v1/players/{player_id}", json={"display_name": "Renamed"}, headers=ADMIN
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Renamed"


async def test_players_cannot_touch_each_others_profiles(
    client: AsyncTestClient[Litestar],
) -> None:
    victim, victim_headers = await sign_in(client, display_name="Victim")
    _, attacker = await sign_in(client)
    url = f"/v1/players/{victim}"
    assert (
        await client.patch(url, json={"display_name": "pwned"}, headers=attacker)
    ).status_code == 403
    assert (await client.delete(url, headers=attacker)).status_code == 403
    # Nothing changed, and the victim's session still works.
    assert (await client.get(url)).json()["display_name"] == "Victim"
    assert (await client.get("/v1/players/me", headers=victim_headers)).status_code == 200


async def test_write_routes_need_a_token(client: AsyncTestClient[Litestar]) -> None:
    player_id, _ = await sign_in(client)
    url = f"/v1/players/{player_id}"
    assert (await client.patch(url, json={"display_name": "x"})).status_code == 401
    assert (await client.delete(url)).status_code == 401


async def test_writes_on_unknown_players_are_404_for_the_admin(
    client: AsyncTestClient[Litestar],
) -> None:
    url = f"/v1/players/{uuid.uuid4()}"
    assert (await client.patch(url, json={"display_name": "x"}, headers=ADMIN)).status_code == 404
    assert (await client.delete(url, headers=ADMIN)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": ""}, "display_name"),
        ({"display_name": "x" * 65}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"display_name": "bad\nname"}, "display_name"),
        ({"display_name": None}, "display_name"),
        ({"display_name": 42}, "display_name"),
        ({"avatar_url": "ftp://files.example/a.png"}, "avatar_url"),
        ({"avatar_url": "not a url"}, "avatar_url"),
        ({"avatar_url": "https://"}, "avatar_url"),
        ({"avatar_url": "https://cdn.example/" + "a" * 500}, "avatar_url"),
        ({"country": "XX"}, "country"),
        ({"country": "de"}, "country"),
        ({"country": "DEU"}, "country"),
        ({"country": 49}, "country"),
        ({"metadata": [1, 2]}, "metadata"),
        ({"metadata": "text"}, "metadata"),
        ({"metadata": {"blob": "x" * 4100}}, "metadata"),
        ({"player_id": str(uuid.uuid4())}, "player_id"),
        ({"version": 99}, "version"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({}, "body"),
    ],
)
async def test_every_patch_rule(
    client: AsyncTestClient[Litestar], body: dict[str, Any], field: str
) -> None:
    player_id, headers = await sign_in(client)
    before = (await client.get(f"/v1/players/{player_id}")).json()
    response = await client.patch(f"/v1/players/{player_id}", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
    assert (await client.get(f"/v1/players/{player_id}")).json() == before, "nothing written"


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"[]", b"null", b'{"metadata": NaN}', b'{"display_name": "a"}' * 3]
)
async def test_malformed_patch_bodies_are_400(
    client: AsyncTestClient[Litestar], raw: bytes
) -> None:
    player_id, headers = await sign_in(client)
    response = await client.patch(
        f"/v1/players/{player_id}",
        content=raw,
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text


async def test_metadata_at_the_limit_is_accepted(client: AsyncTestClient[Litestar]) -> None:
    player_id, headers = await sign_in(client)
    metadata = {"blob": "x" * (4096 - len('{"blob":""}'))}
    response = await client.patch(
        f"/v1/players/{player_id}", json={"metadata": metadata}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["metadata"] == metadata


async def test_delete_removes_profile_cache_and_sessions(
    client: AsyncTestClient[Litestar], redis: Redis, redis_key_prefix: str
) -> None:
    player_id, headers = await sign_in(client)
    _, second_session = await sign_in(client)  # another player, untouched
    await client.get(f"/v1/players/{player_id}")  # cached
    response = await client.delete(f"/v1/players/{player_id}", headers=headers)
    assert response.status_code == 204
    assert (await client.get(f"/v1/players/{player_id}")).status_code == 404
    assert (await client.get("/v1/players/me", headers=headers)).status_code == 401
    assert (await client.get("/v1/players/me", headers=second_session)).status_code == 200
    keys = Keys(redis_key_prefix)
    assert await redis.exists(keys.player_sessions(player_id)) == 0
    assert await redis.hget(keys.profile(player_id), "missing") == "1"
    assert (await client.delete(f"/v1/players/{player_id}", headers=ADMIN)).status_code == 404


async def test_a_deleted_device_signs_in_as_a_new_player(client: AsyncTestClient[Litestar]) -> None:
    device = f"device-{uuid.uuid4()}"
    old_id, headers = await sign_in(client, device)
    await client.delete(f"/v1/players/{old_id}", headers=headers)
    response = await client.post("/v1/auth/device", json={"device_id": device})
    assert response.json()["created"] is True
    assert response.json()["player_id"] != old_id


async def test_every_key_created_has_a_ttl(
    client: AsyncTestClient[Litestar], redis: Redis, redis_key_prefix: str
) -> None:
    for _ in range(5):
        player_id, headers = await sign_in(client)
        await client.get(f"/v1/players/{player_id}")
        await client.patch(f"/v1/players/{player_id}", json={"country": "FR"}, headers=headers)
    await client.get(f"/v1/players/{uuid.uuid4()}")  # a negative entry
    doomed, doomed_headers = await sign_in(client)
    await client.delete(f"/v1/players/{doomed}", headers=doomed_headers)
    count = 0
    async for key in redis.scan_iter(match=f"{redis_key_prefix}*", count=200):
        count += 1
        assert await redis.pttl(key) > 0, f"{key} has no TTL"
    assert count >= 5 * 3 + 1
