"""Health, readiness, OPTIONS and the error shape, through the app over real services.

The OpenAPI document itself is checked in tests/contract.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

from leaderboard.lib.settings import Settings
from leaderboard.server.app import create_app
from tests.conftest import ADMIN
from tests.helpers import assert_error_shape, sign_in


class Echo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    score: int
    name: str = ""


@post("/test/echo")
async def echo(data: JSONBody[Echo]) -> Echo:
    return data


@get("/test/boom")
async def boom() -> None:
    raise RuntimeError("a bug")


async def test_health(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_both_answer(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}


@pytest.mark.parametrize("dependency", ["postgres", "redis"])
async def test_ready_names_an_unreachable_dependency(settings: Settings, dependency: str) -> None:
    closed = {
        "postgres": {"database_url": "postgresql://postgres@127.0.0.1:1/x"},
        "redis": {"redis_url": "redis://127.0.0.1:1/0"},
    }[dependency]
    app = create_app(msgspec.structs.replace(settings, **closed))
    async with AsyncTestClient(app=app) as client:
        started = time.monotonic()
        response = await client.get("/ready")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    # /ready's 503 is its Readiness (checks too) with the error body's two fields.
    assert_error_shape({"status_code": body["status_code"], "detail": body["detail"]}, 503)
    assert body["detail"].startswith(f"not ready: {dependency}:")
    other = "redis" if dependency == "postgres" else "postgres"
    assert body["checks"][other] == "ok"
    assert body["checks"][dependency] == "connection refused"
    assert "127.0.0.1" not in response.text, "internal addresses stay out of responses"
    assert elapsed < 5


async def test_openapi_document_and_ui(client: AsyncTestClient[Litestar]) -> None:
    document = await client.get("/schema/openapi.json")
    assert document.status_code == 200
    paths = document.json()["paths"]
    assert {"/health", "/ready"} <= set(paths)
    ui = await client.get("/schema")
    assert ui.status_code == 200
    assert "<html" in ui.text.lower()


async def test_unknown_route_is_a_404_in_the_contract_shape(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert_error_shape(response.json(), 404)


@pytest.fixture
async def test_routes_client(settings: Settings) -> Any:
    app = create_app(settings)
    app.register(echo)
    app.register(boom)
    async with AsyncTestClient(app=app) as client:
        yield client


async def test_a_body_over_1_mib_gets_413(test_routes_client: AsyncTestClient[Litestar]) -> None:
    body = b'{"score": 1, "name": "' + b"x" * (1024 * 1024) + b'"}'
    response = await test_routes_client.post(
        "/test/echo", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert_error_shape(response.json(), 413)


async def test_a_body_just_under_the_limit_is_read(
    test_routes_client: AsyncTestClient[Litestar],
) -> None:
    name = "x" * (1024 * 1024 - 100)
    response = await test_routes_client.post("/test/echo", json={"score": 1, "name": name})
    assert response.status_code == 201
    assert len(response.json()["name"]) == len(name)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"score": "ten"}', "score"),
        (b'{"score": 1.5}', "score"),
        (b'{"score": 1, "extra": true}', "extra"),
        (b'{"name": "no score"}', "score"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    test_routes_client: AsyncTestClient[Litestar], body: bytes, field: str
) -> None:
    response = await test_routes_client.post(
        "/test/echo", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    payload = response.json()
    assert_error_shape(payload, 400)
    assert payload["field"] == field
    assert [problem["field"] for problem in payload["errors"]] == [field]


async def test_every_problem_is_listed_the_first_as_field(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/v1/leaderboards/any/top?limit=0&offset=-1")
    assert response.status_code == 400
    payload = response.json()
    assert_error_shape(payload, 400)
    assert payload["field"] == "limit"
    assert [problem["field"] for problem in payload["errors"]] == ["limit", "offset"]
    assert all(problem["message"] for problem in payload["errors"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"id": "ok", "rate_limit": {"limit": "x"}}', "rate_limit.limit"),
        (b'{"id": "ok", "rate_limit": {"zz": 1}}', "rate_limit.zz"),
        (b'{"name": "no id"}', "id"),
        (b"", "body"),
        (b"[]", "body"),
    ],
)
async def test_nested_missing_and_absent_fields_are_named(
    client: AsyncTestClient[Litestar], body: bytes, field: str
) -> None:
    response = await client.post(
        "/v1/leaderboards", content=body, headers={**ADMIN, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert_error_shape(response.json(), 400)
    assert response.json()["field"] == field


async def test_a_service_400_lists_its_one_problem(client: AsyncTestClient[Litestar]) -> None:
    player, headers = await sign_in(client)
    response = await client.patch(f"/v1/players/{player}", json={"country": "XX"}, headers=headers)
    assert response.status_code == 400
    payload = response.json()
    assert_error_shape(payload, 400)
    assert payload["detail"] == "country: 'XX' is not an ISO 3166-1 alpha-2 code"
    assert payload["field"] == "country"
    assert payload["errors"] == [
        {"field": "country", "message": "'XX' is not an ISO 3166-1 alpha-2 code"}
    ]


async def test_a_header_400_names_the_header(client: AsyncTestClient[Litestar]) -> None:
    board = f"h-{uuid.uuid4().hex[:12]}"
    assert (await client.post("/v1/leaderboards", json={"id": board}, headers=ADMIN)).is_success
    _, headers = await sign_in(client)
    response = await client.post(
        f"/v1/leaderboards/{board}/scores",
        json={"score": 1},
        headers={**headers, "Idempotency-Key": "k" * 129},
    )
    assert response.status_code == 400
    assert_error_shape(response.json(), 400)
    assert response.json()["field"] == "Idempotency-Key"


@pytest.mark.parametrize("body", [b"", b"{not json", b"\xff\xfe", b"[]", b"null"])
async def test_malformed_bodies_are_4xx(
    test_routes_client: AsyncTestClient[Litestar], body: bytes
) -> None:
    response = await test_routes_client.post(
        "/test/echo", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500
    assert_error_shape(response.json(), response.status_code)
    assert response.json()["field"] == "body"


async def test_litestar_s_own_errors_have_the_one_shape(
    client: AsyncTestClient[Litestar],
) -> None:
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"status_code": 404, "detail": "Not Found"}
    wrong_method = await client.put("/v1/leaderboards")
    assert wrong_method.status_code == 405
    assert_error_shape(wrong_method.json(), 405)
    assert {m.strip() for m in wrong_method.headers["allow"].split(",")} >= {"GET", "POST"}


async def test_401_403_and_409_have_the_one_shape(client: AsyncTestClient[Litestar]) -> None:
    anonymous = await client.post("/v1/leaderboards", json={"id": "never"})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert_error_shape(anonymous.json(), 401)
    _, headers = await sign_in(client)
    forbidden = await client.post("/v1/leaderboards", json={"id": "never"}, headers=headers)
    assert forbidden.status_code == 403
    assert_error_shape(forbidden.json(), 403)
    board = f"c-{uuid.uuid4().hex[:12]}"
    assert (await client.post("/v1/leaderboards", json={"id": board}, headers=ADMIN)).is_success
    again = await client.post("/v1/leaderboards", json={"id": board}, headers=ADMIN)
    assert again.status_code == 409
    assert_error_shape(again.json(), 409)


async def test_an_outage_is_a_503_naming_the_dependency(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    board = f"o-{uuid.uuid4().hex[:12]}"
    assert (await client.post("/v1/leaderboards", json={"id": board}, headers=ADMIN)).is_success
    app = create_app(msgspec.structs.replace(settings, redis_url="redis://127.0.0.1:1/0"))
    async with AsyncTestClient(app=app) as without_redis:
        response = await without_redis.get(f"/v1/leaderboards/{board}/top")
    assert response.status_code == 503
    payload = response.json()
    assert_error_shape(payload, 503)
    assert payload["dependency"] == "redis"
    assert response.headers["retry-after"] == "1"


async def test_options_lists_every_method_of_the_path_without_a_token(
    client: AsyncTestClient[Litestar],
) -> None:
    """Litestar 2's own OPTIONS listed one method on paths with several handlers, and
    asked admin controllers' paths for a token (lib/openapi.py answers instead)."""
    document = (await client.get("/schema/openapi.json")).json()
    for path, item in document["paths"].items():
        url = path.format(
            board_id="any",
            player_id=str(uuid.uuid4()),
            key_id=uuid.uuid4().hex,
            league_id="any",
            cohort="1-1-1",
            submission_id=1,
        )
        response = await client.options(url)
        assert response.status_code == 204, (url, response.text)
        allowed = {method.strip() for method in response.headers["allow"].split(",")}
        assert allowed == {method.upper() for method in item} | {"OPTIONS"}, url
        assert response.content == b""
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_bug_is_a_500_without_internals(
    test_routes_client: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    response = await test_routes_client.get("/test/boom")
    assert response.status_code == 500
    assert response.json() == {"status_code": 500, "detail": "Internal server error"}
    assert "a bug" not in response.text
    assert any("unhandled error on GET /test/boom" in r.getMessage() for r in caplog.records)
