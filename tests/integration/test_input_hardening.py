"""Input a security probe got past the checks: trailing newlines, deep JSON.

A pattern ending in ``$`` matched before a final newline (msgspec matches with
``re.search``), so ``{"id": "abc\\n"}`` reached Postgres, whose check refused it: a 500.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import ADMIN
from tests.helpers import sign_in

Client = AsyncTestClient[Litestar]


def board_id() -> str:
    return f"nl-{uuid.uuid4().hex[:10]}"


async def bad_request(response: Any, field: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["field"] == field, body
    assert body["detail"].startswith("Invalid request: ") or field in body["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "abc\n"}, "id"),
        ({"name": "evil\n"}, "name"),
        ({"name": "evil\x85"}, "name"),  # NEL: a C1 control that breaks lines too
    ],
)
async def test_a_board_with_a_trailing_newline_is_400_and_not_created(
    client: Client, body: dict[str, str], field: str
) -> None:
    sent = {"id": board_id(), **body}
    response = await client.post("/v1/leaderboards", json=sent, headers=ADMIN)
    await bad_request(response, field)
    assert (await client.get(f"/v1/leaderboards/{quote(sent['id'], safe='')}")).status_code == 404
    # Without the newline it is fine: only the newline was refused.
    fixed = {key: value.rstrip("\n\x85") for key, value in sent.items()}
    assert (await client.post("/v1/leaderboards", json=fixed, headers=ADMIN)).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "k\n"}, "name"),
        ({"name": "k", "leaderboards": ["abc\n"]}, "leaderboards[0]"),
    ],
)
async def test_a_server_key_with_a_trailing_newline_is_400(
    client: Client, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/server-keys", json=body, headers=ADMIN)
    await bad_request(response, field)
    listed = (await client.get("/v1/server-keys", headers=ADMIN)).json()["server_keys"]
    assert "k\n" not in [key["name"] for key in listed]


async def test_a_country_or_name_with_a_trailing_newline_is_400(client: Client) -> None:
    created = await client.post("/v1/players", json={"country": "DE\n"}, headers=ADMIN)
    await bad_request(created, "country")
    player, headers = await sign_in(client)
    for body, field in [
        ({"country": "DE\n"}, "country"),
        ({"display_name": "x\n"}, "display_name"),
    ]:
        patched = await client.patch(f"/v1/players/{player}", json=body, headers=headers)
        await bad_request(patched, field)
    profile = (await client.get(f"/v1/players/{player}")).json()
    assert profile["country"] is None
    assert profile["version"] == 1, "nothing was written"
