"""The one place where exceptions become HTTP responses in the contract's error shape.

Every 4xx/5xx body is ``{"status_code": int, "detail": str, ...}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap

from leaderboard.lib.errors import (
    AuthenticationError,
    ConflictError,
    DependencyUnavailableError,
    InvalidInputError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceError,
    UnprocessableError,
    outage_reason,
)
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS

logger = logging.getLogger(__name__)

_STATUS_BY_ERROR: Mapping[type[ServiceError], int] = {
    InvalidInputError: HTTP_400_BAD_REQUEST,
    AuthenticationError: HTTP_401_UNAUTHORIZED,
    PermissionDeniedError: HTTP_403_FORBIDDEN,
    NotFoundError: HTTP_404_NOT_FOUND,
    ConflictError: HTTP_409_CONFLICT,
    UnprocessableError: HTTP_422_UNPROCESSABLE_ENTITY,
    RateLimitedError: HTTP_429_TOO_MANY_REQUESTS,
    DependencyUnavailableError: HTTP_503_SERVICE_UNAVAILABLE,
}


def error_response(
    status_code: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    """A response in the contract's error shape."""
    return Response(
        {"status_code": status_code, "detail": detail, **extra},
        status_code=status_code,
        media_type=MediaType.JSON,
        headers=dict(headers or {}),
    )


def _status_for(exc: ServiceError) -> int:
    for error_type in type(exc).__mro__:
        if error_type in _STATUS_BY_ERROR:
            return _STATUS_BY_ERROR[error_type]
    return HTTP_500_INTERNAL_SERVER_ERROR


def handle_service_error(_: Request[Any, Any, Any], exc: ServiceError) -> Response[dict[str, Any]]:
    status_code = _status_for(exc)
    if isinstance(exc, DependencyUnavailableError):
        return dependency_unavailable_response(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidInputError):
        extra["field"] = exc.field
    headers: dict[str, str] = {}
    if status_code == HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimitedError):
        headers.update(exc.headers)
    return error_response(status_code, exc.detail, headers=headers, **extra)


def dependency_unavailable_response(exc: DependencyUnavailableError) -> Response[dict[str, Any]]:
    logger.warning("%s (%s)", exc.detail, exc.__cause__ or "no further detail")
    extra: dict[str, Any] = {"dependency": exc.dependency}
    if isinstance(exc, OutcomeUnknownError):
        extra["outcome"] = "unknown"
    return error_response(
        HTTP_503_SERVICE_UNAVAILABLE, exc.detail, headers={"Retry-After": "1"}, **extra
    )


def handle_redis_outage(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    error = DependencyUnavailableError("redis", outage_reason(exc))
    error.__cause__ = exc
    return dependency_unavailable_response(error)


def handle_validation_error(
    _: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    """Name the offending field(s) in ``detail``, not only in ``extra``."""
    problems = exc.extra if isinstance(exc.extra, list) else []
    parts = []
    for problem in problems:
        if isinstance(problem, dict) and problem.get("key"):
            parts.append(f"{problem['key']}: {problem.get('message', 'invalid value')}")
        elif isinstance(problem, dict) and problem.get("message"):
            parts.append(str(problem["message"]))
    detail = "Invalid request: " + "; ".join(parts) if parts else exc.detail
    return error_response(HTTP_400_BAD_REQUEST, detail, errors=problems)


def handle_unexpected_error(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[dict[str, Any]]:
    """A bug: log it with its traceback, answer 500 without internals."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error")


def handle_undecodable_body(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Bodies the JSON decoder or Postgres cannot take: not UTF-8, too deep, NUL in text."""
    if isinstance(exc, UnicodeDecodeError):
        detail = "body: not valid UTF-8"
    elif isinstance(exc, RecursionError):
        detail = "body: nested too deeply"
    else:
        detail = "body: text holds a character that cannot be stored (NUL)"
    return error_response(HTTP_400_BAD_REQUEST, detail, field="body")


# HTTPExceptions (404, 405, 413, …) keep Litestar's handling, already in the contract's
# shape; the 500 entry catches every exception that nothing above maps.
EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTP_500_INTERNAL_SERVER_ERROR: handle_unexpected_error,
    ServiceError: handle_service_error,
    ValidationException: handle_validation_error,
    **dict.fromkeys(REDIS_OUTAGE_ERRORS, handle_redis_outage),
    UnicodeDecodeError: handle_undecodable_body,
    RecursionError: handle_undecodable_body,
    asyncpg.UntranslatableCharacterError: handle_undecodable_body,
    asyncpg.CharacterNotInRepertoireError: handle_undecodable_body,
}
