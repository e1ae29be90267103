"""The OpenAPI document says what clients are generated from: ids, statuses, shapes.

Fast: the document as the app serves it, no fuzzing (test_schemathesis.py does that).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

# Generated clients name their functions after these (openapi-python-client, C#, GDScript):
# renaming one breaks every studio's code, so each is fixed here.
OPERATION_IDS = {
    ("get", "/health"): "health",
    ("get", "/ready"): "ready",
    ("post", "/v1/auth/device"): "signInDevice",
    ("delete", "/v1/auth/session"): "endSession",
    ("post", "/v1/players"): "createPlayer",
    ("get", "/v1/players/me"): "getMe",
    ("get", "/v1/players/{player_id}"): "getProfile",
    ("patch", "/v1/players/{player_id}"): "updateProfile",
    ("delete", "/v1/players/{player_id}"): "deletePlayer",
    ("post", "/v1/players/{player_id}/ban"): "banPlayer",
    ("delete", "/v1/players/{player_id}/ban"): "unbanPlayer",
    ("post", "/v1/leaderboards"): "createLeaderboard",
    ("get", "/v1/leaderboards"): "listLeaderboards",
    ("get", "/v1/leaderboards/{board_id}"): "getLeaderboard",
    ("patch", "/v1/leaderboards/{board_id}"): "updateLeaderboard",
    ("delete", "/v1/leaderboards/{board_id}"): "deleteLeaderboard",
    ("post", "/v1/leaderboards/{board_id}/scores"): "submitScore",
    ("get", "/v1/leaderboards/{board_id}/top"): "getTop",
    ("get", "/v1/leaderboards/{board_id}/players"): "getPlayers",
    ("get", "/v1/leaderboards/{board_id}/players/{player_id}"): "getEntry",
    ("delete", "/v1/leaderboards/{board_id}/players/{player_id}"): "removeEntry",
    ("get", "/v1/leaderboards/{board_id}/players/{player_id}/submissions"): "listPlayerSubmissions",
    ("get", "/v1/leaderboards/{board_id}/submissions"): "listPendingSubmissions",
    ("get", "/v1/submissions/{submission_id}"): "getSubmission",
    ("post", "/v1/submissions/{submission_id}/approve"): "approveSubmission",
    ("post", "/v1/submissions/{submission_id}/reject"): "rejectSubmission",
    ("post", "/v1/submissions/{submission_id}/void"): "voidSubmission",
    ("get", "/v1/leaderboards/{board_id}/players/{player_id}/around"): "getAround",
    ("get", "/v1/leaderboards/{board_id}/players/{player_id}/history"): "getHistory",
    ("get", "/v1/leaderboards/{board_id}/histogram"): "getHistogram",
    ("get", "/v1/leaderboards/{board_id}/events"): "streamEvents",
    ("post", "/v1/server-keys"): "createServerKey",
    ("get", "/v1/server-keys"): "listServerKeys",
    ("delete", "/v1/server-keys/{key_id}"): "revokeServerKey",
    ("get", "/v1/audit"): "getAuditLog",
    ("post", "/v1/leagues"): "createLeague",
    ("get", "/v1/leagues"): "listLeagues",
    ("get", "/v1/leagues/{league_id}"): "getLeague",
    ("delete", "/v1/leagues/{league_id}"): "deleteLeague",
    ("post", "/v1/leagues/{league_id}/season/end"): "endSeason",
    ("post", "/v1/leagues/{league_id}/scores"): "submitLeagueScore",
    ("get", "/v1/leagues/{league_id}/players/{player_id}"): "getLeagueStanding",
    ("get", "/v1/leagues/{league_id}/players/{player_id}/seasons"): "getLeagueSeasons",
    ("get", "/v1/leagues/{league_id}/cohorts/{cohort}"): "getCohort",
    ("get", "/v1/leagues/{league_id}/events"): "streamLeagueEvents",
}
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
# What a guarded operation answers when the token is missing or may not do this.
GUARDED = {401, 403}


@pytest.fixture
async def document(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_every_operation_has_its_stable_id(document: dict[str, Any]) -> None:
    ids = {key: op.get("operationId") for key, op in operations(document).items()}
    assert ids == OPERATION_IDS
    assert len(set(ids.values())) == len(ids), "operation ids must be unique"


def test_every_error_response_is_the_error_body(document: dict[str, Any]) -> None:
    for (method, path), operation in operations(document).items():
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            assert response["description"], (method, path, status)
            if (method, path, status) == ("get", "/ready", "503"):
                schema = {"$ref": "#/components/schemas/Readiness"}
            else:
                schema = ERROR_BODY
            assert response["content"] == {"application/json": {"schema": schema}}, (
                method,
                path,
                status,
            )


def test_litestar_s_own_error_schema_is_gone(document: dict[str, Any]) -> None:
    """Its ``extra`` (an array or object with additionalProperties) broke generated clients."""
    assert '"extra"' not in str(document).replace("'", '"')


def test_error_headers_are_documented(document: dict[str, Any]) -> None:
    for (method, path), operation in operations(document).items():
        responses = operation["responses"]
        if "429" in responses:
            headers = responses["429"]["headers"]
            assert headers["Retry-After"]["required"] is True, (method, path)
            assert headers["Retry-After"]["schema"] == {"type": "integer"}
        if "503" in responses and path != "/ready":
            assert "Retry-After" in responses["503"]["headers"], (method, path)
        if "401" in responses:
            assert "WWW-Authenticate" in responses["401"]["headers"], (method, path)
    for key in [("post", "/v1/auth/device"), ("post", "/v1/leaderboards/{board_id}/scores")]:
        success = next(iter(operations(document)[key]["responses"].values()))
        assert set(success["headers"]) == {
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        }
        assert all(h["schema"] == {"type": "integer"} for h in success["headers"].values())


def test_guarded_operations_say_so(document: dict[str, Any]) -> None:
    """A token check answers 401 and 403, and the operation asks for a bearer token."""
    for (method, path), operation in operations(document).items():
        guarded = set(map(int, operation["responses"])) >= GUARDED
        assert guarded == (operation.get("security") == [{"bearer": []}]), (method, path)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http"
    assert schemes["bearer"]["scheme"] == "bearer"


def test_each_operation_lists_what_it_can_answer(document: dict[str, Any]) -> None:
    """Spot checks of the statuses that took thought (the full check is schemathesis')."""
    ops = operations(document)

    def statuses(method: str, path: str) -> set[int]:
        return set(map(int, ops[(method, path)]["responses"]))

    assert statuses("post", "/v1/leaderboards/{board_id}/scores") == {
        200,
        202,  # held for review
        400,
        401,
        403,
        404,
        409,
        413,
        422,
        429,
        503,
    }
    assert statuses("get", "/health") == {200}
    assert statuses("get", "/ready") == {200, 503}
    # A malformed player id is an unknown one: a 404, and these have nothing else to refuse.
    assert statuses("get", "/v1/players/{player_id}") == {200, 404, 503}
    assert statuses("get", "/v1/leaderboards/{board_id}") == {200, 404, 503}
    assert statuses("get", "/v1/leaderboards/{board_id}/events") == {200, 400, 404, 429, 503}
    assert statuses("post", "/v1/auth/device") == {200, 400, 403, 413, 429, 503}


def test_the_event_stream_is_not_json(document: dict[str, Any]) -> None:
    events = operations(document)[("get", "/v1/leaderboards/{board_id}/events")]
    assert events["responses"]["200"]["content"] == {
        "text/event-stream": {"schema": {"type": "string"}}
    }
    headers = {p["name"] for p in events["parameters"] if p["in"] == "header"}
    assert headers == {"Last-Event-ID"}


def test_request_bodies_refuse_unknown_fields_in_the_schema_too(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    for (method, path), operation in operations(document).items():
        body = operation.get("requestBody")
        if body is None:
            continue
        ref = body["content"]["application/json"]["schema"]
        name = (ref.get("$ref") or ref["oneOf"][0]["$ref"]).rsplit("/", 1)[-1]
        assert schemas[name]["additionalProperties"] is False, (method, path, name)


def test_list_items_keep_their_constraints(document: dict[str, Any]) -> None:
    """Litestar drops a list item's msgspec constraints; the server refuses such items."""
    boards = document["components"]["schemas"]["ServerKeyCreate"]["properties"]["leaderboards"]
    (array,) = [option for option in boards["oneOf"] if option["type"] == "array"]
    assert array["items"]["pattern"] == "^[a-z0-9][a-z0-9_-]{0,63}$"


def test_no_schema_is_a_one_of_of_one_member(document: dict[str, Any]) -> None:
    """An optional field (``reset: Reset | UnsetType``) is its type, not a oneOf of it:
    generated clients named such a oneOf's enum ``BoardCreateResetType0``."""
    lone: list[str] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if len(node.get("oneOf", [None, None])) == 1:
                lone.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(document, "")
    assert lone == []
    create = document["components"]["schemas"]["BoardCreate"]["properties"]
    assert create["reset"]["enum"] == ["never", "daily", "weekly", "monthly"]
    assert (create["spans"]["type"], create["spans"]["maxItems"]) == ("array", 4)
    patch = document["components"]["schemas"]["BoardPatch"]["properties"]
    assert patch["rate_limit"] == {"$ref": "#/components/schemas/RateLimitConfig"}


def test_headers_the_service_reads_are_parameters(document: dict[str, Any]) -> None:
    submit = operations(document)[("post", "/v1/leaderboards/{board_id}/scores")]
    (key,) = [p for p in submit["parameters"] if p["in"] == "header"]
    assert key["name"] == "Idempotency-Key"
    assert key["schema"]["maxLength"] == 128


def test_every_process_builds_the_same_document() -> None:
    """Byte for byte, whatever the hash seed: clients generated from it (and the
    TypeScript client's committed types) must not change from one run to the next."""
    dump = "import json; from tests.documents import openapi_document as d; print(json.dumps(d()))"
    built = {
        subprocess.run(
            [sys.executable, "-c", dump],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(built) == 1
