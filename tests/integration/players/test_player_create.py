"""`POST /v1/players` (the admin creates a player) and what a display name may hold."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import ADMIN
from tests.helpers import sign_in


async def test_the_admin_creates_a_player_with_a_profile(
    client: AsyncTestClient[Litestar],
) -> None:
    body = {
        "display_name": "Ada",
        "country": "GB",
        "avatar_url": "https://cdn.example/ada.png",
        "metadata": {"level": 3},
    }
    created = await client.post("/v1/players", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    profile = created.json()
    assert {k: profile[k] for k in body} == body
    assert profile["version"] == 1
    assert created.headers["location"] == f"/v1/players/{profile['player_id']}"
    read = await client.get(f"/v1/players/{profile['player_id']}")
    assert read.json() == profile


async def test_an_empty_body_gets_a_default_name(client: AsyncTestClient[Litestar]) -> None:
    created = await client.post("/v1/players", json={}, headers=ADMIN)
    assert created.status_code == 201, created.text
    profile = created.json()
    assert profile["display_name"] == f"Player-{profile['player_id'][:8]}"
    assert profile["metadata"] == {}


async def test_a_created_players_device_signs_in_as_that_player(
    client: AsyncTestClient[Litestar],
) -> None:
    device = f"device-{uuid.uuid4()}"
    created = await client.post(
        "/v1/players", json={"device_id": device, "display_name": "Grace"}, headers=ADMIN
    )
    assert created.status_code == 201, created.text
    player_id, headers = await sign_in(client, device)
    assert player_id == created.json()["player_id"]
    me = await client.get("/v1/players/me", headers=headers)
    assert me.json()["display_name"] == "Grace"

    again = await client.post("/v1/players", json={"device_id": device}, headers=ADMIN)
    assert again.status_code == 409
    assert "device_id" in again.json()["detail"]


async def test_creating_players_is_not_throttled_like_sign_in(
    client: AsyncTestClient[Litestar],
) -> None:
    # The test settings allow 10,000 sign-ins; the point is that this path has no
    # per-address limit at all (the demo creates hundreds from one address).
    responses = [await client.post("/v1/players", json={}, headers=ADMIN) for _ in range(40)]
    assert {r.status_code for r in responses} == {201}
    assert "ratelimit-limit" not in responses[-1].headers


async def test_only_the_admin_creates_players(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.post("/v1/players", json={})).status_code == 401
    _, player = await sign_in(client)
    forbidden = await client.post("/v1/players", json={}, headers=player)
    assert forbidden.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": ""}, "display_name"),
        ({"display_name": "x" * 65}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"device_id": "short"}, "device_id"),
        ({"country": "XX"}, "country"),
        ({"country": "gb"}, "country"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"metadata": {"k": "x" * 5000}}, "metadata"),
        ({"player_id": str(uuid.uuid4())}, "player_id"),
    ],
)
async def test_bad_create_bodies_are_400_naming_the_field(
    client: AsyncTestClient[Litestar], body: dict[str, object], field: str
) -> None:
    response = await client.post("/v1/players", json=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]


# Characters a display name may not hold, with the edges of each refused range.
REFUSED = {
    "U+0000 NUL": "\x00",
    "U+001F": "\x1f",
    "U+007F DEL": "\x7f",
    "U+0085 NEXT LINE": "\x85",
    "U+009F": "\x9f",
    "U+00AD SOFT HYPHEN": "\xad",
    "U+200B ZERO WIDTH SPACE": "\u200b",
    "U+200D ZERO WIDTH JOINER": "\u200d",
    "U+200F RIGHT-TO-LEFT MARK": "\u200f",
    "U+2028 LINE SEPARATOR": "\u2028",
    "U+2029 PARAGRAPH SEPARATOR": "\u2029",
    "U+202A LEFT-TO-RIGHT EMBEDDING": "\u202a",
    "U+202E RIGHT-TO-LEFT OVERRIDE": "\u202e",
    "U+2060 WORD JOINER": "\u2060",
    "U+2066 LEFT-TO-RIGHT ISOLATE": "\u2066",
    "U+2069 POP DIRECTIONAL ISOLATE": "\u2069",
    "U+FEFF ZERO WIDTH NO-BREAK SPACE": "\ufeff",
    "U+E0001 LANGUAGE TAG": "\U000e0001",
}
# Their neighbours, which are ordinary characters (or, for spaces, allowed inside a name).
ACCEPTED = {
    "U+0020 SPACE inside": "Ada Lovelace",
    "U+00A0 NO-BREAK SPACE": "Ada\xa0L",
    "U+00AE REGISTERED SIGN (after U+00AD)": "Ada\xae",
    "U+2027 HYPHENATION POINT (before U+2028)": "Ada\u2027L",
    "U+202F NARROW NO-BREAK SPACE (after U+202E)": "Ada\u202fL",
    "U+2070 SUPERSCRIPT ZERO (after U+2069)": "Ada\u2070",
    "Arabic, Hebrew and CJK": "مريم שרה 王芳",
    "an emoji": "Ada 🎮",
    "64 characters": "é" * 64,
}


@pytest.mark.parametrize("char", REFUSED.values(), ids=REFUSED.keys())
@pytest.mark.parametrize("where", ["sign-in", "patch", "create"])
async def test_control_and_format_characters_are_refused_everywhere(
    client: AsyncTestClient[Litestar], char: str, where: str
) -> None:
    name = f"Ada{char}Admin"
    if where == "sign-in":
        response = await client.post(
            "/v1/auth/device", json={"device_id": f"device-{uuid.uuid4()}", "display_name": name}
        )
    elif where == "patch":
        player_id, headers = await sign_in(client)
        response = await client.patch(
            f"/v1/players/{player_id}", json={"display_name": name}, headers=headers
        )
    else:
        response = await client.post("/v1/players", json={"display_name": name}, headers=ADMIN)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["detail"].startswith("display_name: ")
    assert body["field"] == "display_name"
    assert f"U+{ord(char):04X}" in body["detail"]


async def test_a_refused_name_creates_nothing(client: AsyncTestClient[Litestar]) -> None:
    device = f"device-{uuid.uuid4()}"
    refused = await client.post(
        "/v1/auth/device", json={"device_id": device, "display_name": "evil\u202e"}
    )
    assert refused.status_code == 400
    signed = await client.post("/v1/auth/device", json={"device_id": device})
    assert signed.json()["created"] is True


@pytest.mark.parametrize("name", ACCEPTED.values(), ids=ACCEPTED.keys())
async def test_ordinary_names_are_accepted(client: AsyncTestClient[Litestar], name: str) -> None:
    created = await client.post("/v1/players", json={"display_name": name}, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["display_name"] == name
    player_id, headers = await sign_in(client, display_name=name)
    me = await client.get("/v1/players/me", headers=headers)
    assert me.json()["display_name"] == name
    patched = await client.patch(
        f"/v1/players/{player_id}", json={"display_name": name[::-1]}, headers=headers
    )
    assert patched.status_code == 200, patched.text
