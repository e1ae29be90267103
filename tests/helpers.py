"""Small test helpers: waiting on conditions (never bare sleeps), free ports."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.auth.sessions import parse_token
from leaderboard.lib.keys import Keys
from leaderboard.lib.openapi import ErrorBody


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` until true; returns the seconds it took. Fails the test on timeout."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - start


async def async_wait_until(
    condition: Callable[[], Awaitable[bool]], timeout: float, what: str
) -> float:
    start = time.monotonic()
    while not await condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def sign_in(
    client: AsyncTestClient[Litestar] | httpx.AsyncClient,
    device_id: str | None = None,
    **body: object,
) -> tuple[str, dict[str, str]]:
    """Sign a new (or the given) device in; returns the player id and auth headers."""
    response = await client.post(
        "/v1/auth/device", json={"device_id": device_id or f"device-{uuid.uuid4()}", **body}
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    return payload["player_id"], {"Authorization": f"Bearer {payload['token']}"}


def session_key(key_prefix: str, headers: dict[str, str]) -> str:
    """The Redis key of the session whose token ``headers`` carry."""
    parsed = parse_token(headers["Authorization"].removeprefix("Bearer "))
    assert parsed is not None
    return Keys(key_prefix).session(parsed.player_id, parsed.token_hash)


ERROR_KEYS = set(ErrorBody.__struct_encode_fields__)


def assert_error_shape(body: dict[str, Any], status_code: int) -> None:
    """One shape for every error: ErrorBody's keys only, ``field`` and ``errors`` together."""
    assert body["status_code"] == status_code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert set(body) <= ERROR_KEYS, f"keys outside ErrorBody: {set(body) - ERROR_KEYS}"
    msgspec.convert(body, ErrorBody)  # the types too
    assert ("field" in body) == ("errors" in body)
    if "field" in body:
        assert status_code == 400
        assert body["errors"][0]["field"] == body["field"]
        assert body["field"] in body["detail"], "the detail names the field"
