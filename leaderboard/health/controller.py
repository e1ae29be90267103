"""Operations endpoints: ``GET /health``, ``GET /ready`` and ``GET /metrics``."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from leaderboard.health.deps import EvictionDep
from leaderboard.lib.db import Database
from leaderboard.lib.deps import DatabaseDep, RedisDep, SettingsDep
from leaderboard.lib.errors import (
    AuthenticationError,
    DependencyUnavailableError,
    outage_reason,
)
from leaderboard.lib.metrics import (
    CONTENT_TYPE_LATEST,
    REDIS_MAX_MEMORY,
    REDIS_USED_MEMORY,
    exposition,
)
from leaderboard.lib.openapi import ApiOperation
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS, AnyRedis

logger = logging.getLogger(__name__)


class Health(msgspec.Struct, kw_only=True):
    status: Literal["ok"] = "ok"


class Readiness(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]
    """``ok`` or what went wrong, per dependency (``postgres``, ``redis``)."""
    status_code: int | None = None
    detail: str | None = None
    warnings: list[str] = msgspec.field(default_factory=list)
    """What works now but may cost later (a Redis that may evict indexes)."""


async def _check(name: str, probe: Awaitable[object], timeout: float) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, timeout)
    except TimeoutError:
        return name, f"no answer within {timeout:g} s"
    except DependencyUnavailableError as exc:
        logger.warning("readiness: %s: %s", name, exc.__cause__ or exc.reason)
        return name, exc.reason
    except REDIS_OUTAGE_ERRORS as exc:
        logger.warning("readiness: redis: %s", exc)
        return name, outage_reason(exc)
    return name, "ok"


async def check_dependencies(db: Database, redis: AnyRedis, timeout: float) -> dict[str, str]:
    """Ask Postgres (``SELECT 1``) and Redis (``PING``) at once, each with its own timeout."""
    results = await asyncio.gather(
        _check("postgres", db.fetchval("SELECT 1"), timeout),
        _check("redis", redis.ping(), timeout),
    )
    return dict(results)


class HealthController(Controller):
    tags = ["health"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get(
        "/health",
        summary="Liveness: 200 while the process runs",
        operation_id="health",
        operation_class=ApiOperation,
    )
    async def health(self) -> Health:
        return Health()

    @get(
        "/ready",
        summary="Readiness: 200 when Postgres and Redis answer, else 503 naming what failed",
        operation_id="ready",
        operation_class=ApiOperation,
        # Not an ErrorBody: the 503 carries the checks too, beside status_code and detail.
        responses={
            HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
                Readiness,
                description="Not ready: `checks` says what failed, `detail` names it.",
                generate_examples=False,
            )
        },
    )
    async def ready(
        self, db: DatabaseDep, redis: RedisDep, settings: SettingsDep, eviction: EvictionDep
    ) -> Response[Readiness]:
        checks = await check_dependencies(db, redis, settings.ready_timeout)
        failed = {name: problem for name, problem in checks.items() if problem != "ok"}
        if not failed:
            warning = await eviction.warning()
            body = Readiness(status="ok", checks=checks, warnings=[warning] if warning else [])
            return Response(body, status_code=HTTP_200_OK)
        detail = "not ready: " + "; ".join(f"{name}: {problem}" for name, problem in failed.items())
        body = Readiness(
            status="unavailable",
            checks=checks,
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            detail=detail,
        )
        return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE)


@get("/metrics", include_in_schema=False)
async def metrics(
    request: Request[Any, Any, Any], redis: RedisDep, settings: SettingsDep
) -> Response[bytes]:
    """Prometheus text format; reads Redis' memory figures first, so the gauges are current.

    With ``LEADERBOARD_METRICS_TOKEN`` set, only for ``Authorization: Bearer <that token>``.
    """
    if settings.metrics_token is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), settings.metrics_token.encode()):
            raise AuthenticationError(
                "/metrics needs Authorization: Bearer <LEADERBOARD_METRICS_TOKEN>"
            )
    try:
        info = await redis.info("memory")
        REDIS_USED_MEMORY.set(float(info.get("used_memory", 0)))
        REDIS_MAX_MEMORY.set(float(info.get("maxmemory", 0)))
    except REDIS_OUTAGE_ERRORS as exc:
        logger.warning("metrics: cannot read Redis memory: %s", exc)
    return Response(exposition(settings.metrics_dir), media_type=CONTENT_TYPE_LATEST)
