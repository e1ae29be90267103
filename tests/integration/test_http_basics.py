"""Health, readiness, OpenAPI and the error shape, through the app over real services."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

from leaderboard.lib.settings import Settings
from leaderboard.server.app import create_app


class Echo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    score: int
    name: str = ""


@post("/test/echo")
async def echo(data: JSONBody[Echo]) -> Echo:
    return data


@get("/test/boom")
async def boom() -> None:
    raise RuntimeError("a bug")


def assert_error_shape(body: dict[str, Any], status_code: int) -> None:
    assert body["status_code"] == status_code
    assert isinstance(body["detail"], str)
    assert body["detail"]


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
    assert_error_shape(body, 503)
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
    assert field in payload["detail"]


@pytest.mark.parametrize("body", [b"", b"{not json", b"\xff\xfe", b"[]", b"null"])
async def test_malformed_bodies_are_4xx(
    test_routes_client: AsyncTestClient[Litestar], body: bytes
) -> None:
    response = await test_routes_client.post(
        "/test/echo", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500
    assert_error_shape(response.json(), response.status_code)


async def test_a_bug_is_a_500_without_internals(
    test_routes_client: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    response = await test_routes_client.get("/test/boom")
    assert response.status_code == 500
    assert response.json() == {"status_code": 500, "detail": "Internal server error"}
    assert "a bug" not in response.text
    assert any("unhandled error on GET /test/boom" in r.getMessage() for r in caplog.records)
