"""Trusted writes: server-only boards, score bounds, server keys, and the audit of them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.lib.settings import Settings
from leaderboard.server.app import create_app
from tests.conftest import ADMIN
from tests.helpers import sign_in
from tests.scores_helpers import create_board

pytestmark = pytest.mark.redis_modes
Client = AsyncTestClient[Litestar]


async def new_key(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/server-keys", json={"name": "eu-west game servers", **body}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def audit(client: httpx.AsyncClient, limit: int = 100) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/audit?limit={limit}", headers=ADMIN)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


# -- board options -------------------------------------------------------------------


async def test_a_server_only_board_refuses_players_and_takes_servers(client: Client) -> None:
    board_id = await create_board(client, client_submissions=False)
    board = (await client.get(f"/v1/leaderboards/{board_id}")).json()
    assert board["client_submissions"] is False
    player, headers = await sign_in(client)
    url = f"/v1/leaderboards/{board_id}/scores"
    refused = await client.post(url, json={"score": 5}, headers=headers)
    assert refused.status_code == 403, refused.text
    key = (await new_key(client))["key"]
    accepted = await client.post(url, json={"score": 5, "player_id": player}, headers=bearer(key))
    assert accepted.status_code == 200, accepted.text
    by_admin = await client.post(url, json={"score": 6, "player_id": player}, headers=ADMIN)
    assert by_admin.json()["score"] == 6


@pytest.mark.parametrize(
    ("operator", "submitted", "status"),
    [
        ("best", 100, 200),
        ("best", 101, 400),
        ("best", -1, 400),
        ("best", 0, 200),
        ("sum", 60, 200),  # on sum boards the bound is on the value added
        ("sum", 101, 400),
    ],
)
async def test_score_bounds(client: Client, operator: str, submitted: int, status: int) -> None:
    board_id = await create_board(client, operator=operator, min_score=0, max_score=100)
    _, headers = await sign_in(client)
    url = f"/v1/leaderboards/{board_id}/scores"
    if operator == "sum":  # a stored total above the bound is fine
        assert (await client.post(url, json={"score": 100}, headers=headers)).is_success
    response = await client.post(url, json={"score": submitted}, headers=headers)
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["field"] == "score"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"min_score": 10, "max_score": 9}, "min_score"),
        ({"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}, "ends_at"),
        ({"starts_at": "2030-01-02T00:00:00"}, "starts_at"),  # no offset: which time?
        ({"max_score": 2**53}, "max_score"),
        ({"overtake_events": 101}, "overtake_events"),
        ({"max_submissions": 0}, "max_submissions"),
        ({"client_submissions": "no"}, "client_submissions"),
    ],
)
async def test_inconsistent_options_are_refused_naming_the_field(
    client: Client, options: dict[str, Any], field: str
) -> None:
    body = {"id": f"bad-{uuid.uuid4().hex[:8]}", **options}
    response = await client.post("/v1/leaderboards", json=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
    assert (await client.get(f"/v1/leaderboards/{body['id']}")).status_code == 404


async def test_an_admin_submission_for_an_unknown_player_is_404(client: Client) -> None:
    board_id = await create_board(client)
    for player in (str(uuid.uuid4()), "not-a-uuid"):
        response = await client.post(
            f"/v1/leaderboards/{board_id}/scores",
            json={"score": 1, "player_id": player},
            headers=ADMIN,
        )
        assert response.status_code == 404, response.text
    assert (await client.get(f"/v1/leaderboards/{board_id}/top")).json()["total"] == 0


# -- server keys ---------------------------------------------------------------------


async def test_a_server_key_submits_for_players_on_its_boards_only(client: Client) -> None:
    mine, other = await create_board(client), await create_board(client)
    created = await new_key(client, leaderboards=[mine])
    assert created["key"].startswith("lbk_")
    assert created["leaderboards"] == [mine]
    key = bearer(created["key"])
    player, _ = await sign_in(client)
    ok = await client.post(
        f"/v1/leaderboards/{mine}/scores", json={"score": 3, "player_id": player}, headers=key
    )
    assert ok.status_code == 200, ok.text
    elsewhere = await client.post(
        f"/v1/leaderboards/{other}/scores", json={"score": 3, "player_id": player}, headers=key
    )
    assert elsewhere.status_code == 403
    anonymous = await client.post(f"/v1/leaderboards/{mine}/scores", json={"score": 3}, headers=key)
    assert anonymous.status_code == 400
    assert anonymous.json()["field"] == "player_id"
    # It reads what anyone may read.
    assert (await client.get(f"/v1/leaderboards/{mine}/top", headers=key)).status_code == 200


async def test_a_server_key_may_do_nothing_else(client: Client) -> None:
    board_id = await create_board(client)
    key = bearer((await new_key(client))["key"])
    player, _ = await sign_in(client)
    calls = [
        ("POST", "/v1/leaderboards", {"id": f"x-{uuid.uuid4().hex[:8]}"}),
        ("DELETE", f"/v1/leaderboards/{board_id}", None),
        ("DELETE", f"/v1/leaderboards/{board_id}/players/{player}", None),
        ("PATCH", f"/v1/players/{player}", {"display_name": "Hacked"}),
        ("DELETE", f"/v1/players/{player}", None),
        ("POST", f"/v1/players/{player}/ban", {}),
        ("GET", "/v1/players/me", None),
        ("GET", "/v1/audit", None),
        ("GET", "/v1/server-keys", None),
        ("POST", "/v1/server-keys", {"name": "more"}),
    ]
    for method, url, body in calls:
        response = await client.request(method, url, json=body, headers=key)
        assert response.status_code == 403, (method, url, response.text)


async def test_keys_are_shown_once_and_stored_as_hashes_only(
    client: Client, database_url: str
) -> None:
    created = await new_key(client)
    listed = (await client.get("/v1/server-keys", headers=ADMIN)).json()["server_keys"]
    mine = [k for k in listed if k["id"] == created["id"]]
    assert mine == [{k: v for k, v in created.items() if k != "key"}]
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        stored = await conn.fetchrow("SELECT * FROM server_keys WHERE id = $1", created["id"])
    finally:
        await conn.close()
    assert stored is not None
    secret = created["key"].split(".", 1)[1]
    assert secret.encode() not in b"".join(
        str(value).encode() for value in dict(stored).values()
    ), "the secret is not stored"


@pytest.mark.parametrize(
    "token",
    [
        "lbk_" + "0" * 32 + "." + "A" * 43,  # well formed, unknown
        "lbk_short.secret",  # malformed
    ],
)
async def test_unknown_server_keys_are_401(client: Client, token: str) -> None:
    board_id = await create_board(client)
    player, _ = await sign_in(client)
    response = await client.post(
        f"/v1/leaderboards/{board_id}/scores",
        json={"score": 1, "player_id": player},
        headers=bearer(token),
    )
    assert response.status_code == 401


async def test_a_wrong_secret_for_a_real_key_is_401(client: Client) -> None:
    board_id = await create_board(client)
    player, _ = await sign_in(client)
    key_id = (await new_key(client))["id"]
    forged = f"lbk_{key_id}.{'B' * 43}"
    response = await client.post(
        f"/v1/leaderboards/{board_id}/scores",
        json={"score": 1, "player_id": player},
        headers=bearer(forged),
    )
    assert response.status_code == 401


async def test_a_key_for_an_unknown_board_is_refused(client: Client) -> None:
    response = await client.post(
        "/v1/server-keys", json={"name": "x", "leaderboards": ["no-such-board"]}, headers=ADMIN
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "leaderboards"


@pytest.fixture
async def second_worker(settings: Settings) -> AsyncIterator[Client]:
    """Another worker (its own app, pools and caches) over the same Postgres and Redis."""
    async with AsyncTestClient(app=create_app(settings)) as other:
        yield other


async def test_a_revoked_key_stops_working_at_once_in_every_worker(
    client: Client, second_worker: Client
) -> None:
    board_id = await create_board(client)
    player, _ = await sign_in(client)
    created = await new_key(client)
    url = f"/v1/leaderboards/{board_id}/scores"
    body = {"score": 1, "player_id": player}
    key = bearer(created["key"])
    # The second worker has used the key: it holds the grant in Redis now.
    assert (await second_worker.post(url, json=body, headers=key)).status_code == 200
    revoked = await client.delete(f"/v1/server-keys/{created['id']}", headers=ADMIN)
    assert revoked.status_code == 204
    assert (await second_worker.post(url, json=body, headers=key)).status_code == 401
    assert (await client.post(url, json=body, headers=key)).status_code == 401
    assert (
        await client.delete(f"/v1/server-keys/{created['id']}", headers=ADMIN)
    ).status_code == 404
    listed = (await client.get("/v1/server-keys", headers=ADMIN)).json()["server_keys"]
    assert created["id"] not in [k["id"] for k in listed]


# -- the audit log -------------------------------------------------------------------


async def test_every_admin_and_server_key_write_is_audited(client: Client) -> None:
    board_id = await create_board(client)
    player, player_headers = await sign_in(client)
    created = await new_key(client, leaderboards=[board_id])
    url = f"/v1/leaderboards/{board_id}/scores"
    request_id = f"req-{uuid.uuid4().hex[:8]}"
    assert (
        await client.post(
            url,
            json={"score": 9, "player_id": player},
            headers={**bearer(created["key"]), "X-Request-ID": request_id},
        )
    ).is_success
    assert (
        await client.post(url, json={"score": 10, "player_id": player}, headers=ADMIN)
    ).is_success
    assert (await client.post(url, json={"score": 11}, headers=player_headers)).is_success
    assert (await client.delete(f"/v1/server-keys/{created['id']}", headers=ADMIN)).is_success
    assert (await client.delete(f"/v1/leaderboards/{board_id}", headers=ADMIN)).is_success

    entries = await audit(client)
    mine = [e for e in entries if board_id in e["target"] or created["id"] in e["target"]]
    assert [(e["action"], e["actor"]) for e in mine] == [
        ("leaderboard.delete", "admin"),
        ("server_key.revoke", "admin"),
        ("score.submit", "admin"),
        ("score.submit", f"server-key:{created['id']}"),
        ("server_key.create", "admin"),
        ("leaderboard.create", "admin"),
    ], "newest first; the player's own submission is not an admin write"
    by_key = mine[3]
    assert by_key["request_id"] == request_id
    assert by_key["target"] == f"leaderboard:{board_id}/player:{player}"
    assert by_key["details"]["submitted"] == 9
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True)


async def test_the_audit_log_pages_back_in_time(client: Client) -> None:
    for _ in range(3):
        await create_board(client)
    first = (await client.get("/v1/audit?limit=2", headers=ADMIN)).json()
    assert len(first["entries"]) == 2
    assert first["next_before"] == first["entries"][-1]["id"]
    second = (
        await client.get(f"/v1/audit?limit=2&before={first['next_before']}", headers=ADMIN)
    ).json()
    assert second["entries"][0]["id"] < first["entries"][-1]["id"]
    _, player = await sign_in(client)
    assert (await client.get("/v1/audit", headers=player)).status_code == 403
    assert (await client.get("/v1/audit")).status_code == 401
