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


def nested(levels: int) -> bytes:
    """A score body whose metadata makes the whole body ``levels`` deep."""
    inner = "[" * (levels - 2) + "1" + "]" * (levels - 2)
    return f'{{"score": 1, "metadata": {{"k": {inner}}}}}'.encode()


@pytest.mark.parametrize("levels", [33, 100, 980, 5000])
async def test_a_body_nested_past_32_levels_is_400_naming_the_body(
    client: Client, levels: int
) -> None:
    board = (await client.post("/v1/leaderboards", json={"id": board_id()}, headers=ADMIN)).json()
    _, headers = await sign_in(client)
    response = await client.post(
        f"/v1/leaderboards/{board['id']}/scores",
        content=nested(levels),
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "body"
    assert response.json()["detail"] == "body: nested more than 32 levels deep"
    top = await client.get(f"/v1/leaderboards/{board['id']}/top")
    assert top.json()["total"] == 0, "nothing was written"


async def test_a_body_nested_32_levels_is_accepted(client: Client) -> None:
    board = (await client.post("/v1/leaderboards", json={"id": board_id()}, headers=ADMIN)).json()
    _, headers = await sign_in(client)
    response = await client.post(
        f"/v1/leaderboards/{board['id']}/scores",
        content=nested(32),
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text


async def test_brackets_inside_strings_are_not_nesting(client: Client) -> None:
    _, headers = await sign_in(client)
    me = (await client.get("/v1/players/me", headers=headers)).json()
    deep_text = "[{" * 40 + '\\"' + "}]" * 40  # an escaped quote inside, too
    response = await client.patch(
        f"/v1/players/{me['player_id']}",
        content=f'{{"metadata": {{"note": "{deep_text}"}}}}'.encode(),
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["note"] == deep_text.replace('\\"', '"')


@pytest.mark.parametrize(
    "body",
    [b"[" * 40, b"[" * 20 + b"{}" + b"]" * 20 + b"]" * 20, b'{"a": "' + b"[" * 40],
)
async def test_malformed_deep_bodies_are_400_naming_the_body(client: Client, body: bytes) -> None:
    response = await client.post(
        "/v1/leaderboards", content=body, headers={**ADMIN, "content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "body"
