"""The audit log: every admin and server-key write, its periods as the API says, filters.

The session's database is shared by every test: each test finds its own entries by a
board or player of its own, through the filters under test.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.audit.models import AUDIT_ACTIONS, AuditFilter
from leaderboard.audit.repository import page_query
from tests.conftest import ADMIN
from tests.helpers import sign_in

Client = AsyncTestClient[Litestar]


async def audit(client: Client, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/audit", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


async def new_board(client: Client, board_id: str | None = None, **spec: Any) -> str:
    board_id = board_id or f"aud-{uuid.uuid4().hex[:10]}"
    body = {"id": board_id, "rate_limit": {"limit": 1000, "window_seconds": 60}, **spec}
    assert (await client.post("/v1/leaderboards", json=body, headers=ADMIN)).status_code == 201
    return board_id


def about(entries: list[dict[str, Any]], player: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e["action"], e["details"]) for e in entries if e["target"] == f"player:{player}"]


async def test_the_admins_player_writes_are_audited_a_players_own_are_not(
    client: Client,
) -> None:
    created = await client.post(
        "/v1/players",
        json={"display_name": "Made", "device_id": f"d-{uuid.uuid4()}"},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    player = created.json()["player_id"]
    patched = await client.patch(
        f"/v1/players/{player}", json={"country": "DE", "display_name": "Renamed"}, headers=ADMIN
    )
    assert patched.status_code == 200
    assert (await client.delete(f"/v1/players/{player}", headers=ADMIN)).status_code == 204
    entries = await audit(client, actor="admin", limit=1000)
    assert about(entries, player) == [
        ("player.delete", {}),
        ("player.update", {"fields": ["country", "display_name"]}),  # names, never values
        ("player.create", {"device": True}),  # never the device id: it signs the player in
    ]
    # A player changing and deleting themself is no admin write.
    own, headers = await sign_in(client)
    assert (
        await client.patch(f"/v1/players/{own}", json={"country": "FR"}, headers=headers)
    ).is_success
    assert (await client.delete(f"/v1/players/{own}", headers=headers)).status_code == 204
    assert about(await audit(client, limit=1000), own) == []


async def test_a_refused_write_leaves_no_entry(client: Client) -> None:
    device = f"d-{uuid.uuid4()}"
    player, _ = await sign_in(client, device)
    again = await client.post("/v1/players", json={"device_id": device}, headers=ADMIN)
    assert again.status_code == 409
    missing = str(uuid.uuid4())
    gone = await client.patch(f"/v1/players/{missing}", json={"country": "DE"}, headers=ADMIN)
    assert gone.status_code == 404
    entries = await audit(client, actor="admin", limit=1000)
    assert about(entries, missing) == []
    assert about(entries, player) == []


@pytest.mark.parametrize(("reset", "period_is_null"), [("never", True), ("daily", False)])
async def test_audited_periods_are_those_the_api_shows(
    client: Client, database_url: str, reset: str, period_is_null: bool
) -> None:
    board = await new_board(client, reset=reset)
    player, _ = await sign_in(client)
    submitted = await client.post(
        f"/v1/leaderboards/{board}/scores", json={"score": 5, "player_id": player}, headers=ADMIN
    )
    period = submitted.json()["period"]
    assert (period is None) == period_is_null
    removed = await client.delete(f"/v1/leaderboards/{board}/players/{player}", headers=ADMIN)
    assert removed.status_code == 204
    entries = await audit(client, leaderboard=board)
    assert [e["action"] for e in entries] == ["entry.remove", "score.submit", "leaderboard.create"]
    assert [e["details"]["period"] for e in entries[:2]] == [period, period]
    # Stored so, too (not only read so: see the next test).
    conn = await asyncpg.connect(database_url)
    try:
        stored = await conn.fetch(
            "SELECT details->>'period' AS period FROM audit_log WHERE target LIKE $1",
            f"leaderboard:{board}/%",
        )
    finally:
        await conn.close()
    assert [row["period"] for row in stored] == [period, period]


async def test_entries_written_before_null_periods_read_as_null(
    client: Client, database_url: str
) -> None:
    board = f"aud-{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO audit_log (actor, action, target, details) VALUES "
            "('admin', 'entry.remove', $1, '{\"period\": \"1970-01-01\", \"score\": 3}')",
            f"leaderboard:{board}/player:{uuid.uuid4()}",
        )
    finally:
        await conn.close()
    [entry] = await audit(client, leaderboard=board)
    assert entry["details"] == {"period": None, "score": 3}


async def test_filters_combine_and_page(client: Client) -> None:
    board = await new_board(client)
    # A board whose id starts with the first's: not "about" the first board.
    other = await new_board(client, f"{board}-2")
    key = await client.post("/v1/server-keys", json={"name": "audit filters"}, headers=ADMIN)
    key_id, secret = key.json()["id"], key.json()["key"]
    server = {"Authorization": f"Bearer {secret}"}
    players = [(await sign_in(client))[0] for _ in range(3)]
    for player in players:
        for board_id, headers in ((board, server), (other, server), (board, ADMIN)):
            response = await client.post(
                f"/v1/leaderboards/{board_id}/scores",
                json={"score": 1 + len(headers), "player_id": player},
                headers=headers,
            )
            assert response.status_code == 200, response.text

    on_board = await audit(client, leaderboard=board)
    assert len(on_board) == 6 + 1  # the submissions and the board's creation
    assert all(e["target"].split("/")[0] == f"leaderboard:{board}" for e in on_board)
    by_key = await audit(client, leaderboard=board, actor=f"server-key:{key_id}")
    assert [e["actor"] for e in by_key] == [f"server-key:{key_id}"] * 3
    submits = await audit(client, leaderboard=other, action="score.submit")
    assert len(submits) == 3
    assert {e["action"] for e in submits} == {"score.submit"}
    assert await audit(client, leaderboard=board, action="player.ban") == []

    # Pages of two, newest first, the filter kept on every page.
    seen: list[int] = []
    before: int | None = None
    while True:
        params: dict[str, str | int] = {"leaderboard": board, "limit": 2}
        if before is not None:
            params["before"] = before
        page = (await client.get("/v1/audit", params=params, headers=ADMIN)).json()
        seen += [e["id"] for e in page["entries"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == [e["id"] for e in on_board]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"action": "player.nope"}, "action"),
        ({"actor": "bob"}, "actor"),
        ({"actor": "admin\n"}, "actor"),
        ({"actor": "server-key:XYZ"}, "actor"),
        ({"leaderboard": "Not A Board"}, "leaderboard"),
        ({"leaderboard": "weekly\n"}, "leaderboard"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
    ],
)
async def test_bad_filters_are_400_naming_them(
    client: Client, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/v1/audit", params=params, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_every_audited_action_can_be_filtered() -> None:
    assert {"player.create", "player.update", "player.delete", "score.submit"} <= set(AUDIT_ACTIONS)


@pytest.mark.parametrize(
    ("where", "index"),
    [
        (AuditFilter(action="score.submit"), "audit_log_action"),
        (AuditFilter(actor="admin"), "audit_log_actor"),
        (AuditFilter(leaderboard="weekly"), "audit_log_leaderboard"),
    ],
)
async def test_each_filter_can_read_from_its_index(
    database_url: str, where: AuditFilter, index: str
) -> None:
    """The planner may use the index (its expression is the query's): 0009's indexes."""
    sql, args = page_query(100, where)
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {sql}", *args))
    finally:
        await conn.close()
    assert index in plan, plan
