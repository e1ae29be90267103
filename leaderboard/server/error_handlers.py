"""The one place where exceptions become HTTP responses in the contract's error shape.

Every 4xx/5xx body is an :class:`~leaderboard.lib.openapi.ErrorBody`:
``{"status_code": int, "detail": str, ...}``, with ``field`` and ``errors`` on a 400 that
concerns a field, ``dependency`` (and ``outcome``) on a 503. Litestar's own exceptions
(404, 405, 413, malformed JSON, its request validation) are rendered in that shape here
too, so a client has one error model to decode.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import asyncpg
import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    InternalServerException,
    SerializationException,
    ValidationException,
)
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
    TryLaterError,
    UnprocessableError,
    outage_reason,
)
from leaderboard.lib.openapi import ErrorBody, FieldProblem
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.request_middleware import client_hung_up

logger = logging.getLogger(__name__)

# What the metrics count for a request whose client hung up (nginx's code; never sent).
CLIENT_CLOSED_REQUEST = 499

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
    problems: list[FieldProblem] | None = None,
    dependency: str | msgspec.UnsetType = msgspec.UNSET,
    outcome_unknown: bool = False,
) -> Response[ErrorBody]:
    """A response in the contract's error shape; ``problems`` fill ``field`` and ``errors``."""
    body = ErrorBody(
        status_code=status_code,
        detail=detail,
        field=problems[0].field if problems else msgspec.UNSET,
        errors=problems or msgspec.UNSET,
        dependency=dependency,
        outcome="unknown" if outcome_unknown else msgspec.UNSET,
    )
    return Response(
        body, status_code=status_code, media_type=MediaType.JSON, headers=dict(headers or {})
    )


def _status_for(exc: ServiceError) -> int:
    for error_type in type(exc).__mro__:
        if error_type in _STATUS_BY_ERROR:
            return _STATUS_BY_ERROR[error_type]
    return HTTP_500_INTERNAL_SERVER_ERROR


def handle_service_error(_: Request[Any, Any, Any], exc: ServiceError) -> Response[ErrorBody]:
    status_code = _status_for(exc)
    if isinstance(exc, DependencyUnavailableError):
        return dependency_unavailable_response(exc)
    problems = None
    if isinstance(exc, InvalidInputError):
        # The detail is "<field>: <problem>"; the list item carries the problem alone.
        message = exc.detail.removeprefix(f"{exc.field}: ")
        problems = [FieldProblem(field=exc.field, message=message)]
    headers: dict[str, str] = {}
    if status_code == HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimitedError | TryLaterError):
        headers.update(exc.headers)
    return error_response(status_code, exc.detail, headers=headers, problems=problems)


def dependency_unavailable_response(exc: DependencyUnavailableError) -> Response[ErrorBody]:
    logger.warning("%s (%s)", exc.detail, exc.__cause__ or "no further detail")
    return error_response(
        HTTP_503_SERVICE_UNAVAILABLE,
        exc.detail,
        headers={"Retry-After": "1"},
        dependency=exc.dependency,
        outcome_unknown=isinstance(exc, OutcomeUnknownError),
    )


def handle_redis_outage(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    error = DependencyUnavailableError("redis", outage_reason(exc))
    error.__cause__ = exc
    return dependency_unavailable_response(error)


# msgspec names the field inside the message when the error is about the object that
# holds it: "Object missing required field `id`", "Object contains unknown field `zzz`".
_NAMED_FIELD = re.compile(r"(?:missing required|contains unknown) field `([^`]+)`")
# Litestar's key for the body as a whole (the handler's ``data`` parameter).
_WHOLE_BODY = "data"


def validation_problem(problem: Any) -> FieldProblem:
    """One of Litestar's ``{message, key, source}`` as a problem naming the field.

    The key of the body as a whole is ``data``: the field is then the one the message
    names (a missing or unknown field), else ``body``. A nested object's key gets the
    named field appended (``rate_limit.limit``).
    """
    if not isinstance(problem, dict):
        return FieldProblem(field="body", message=str(problem))
    key = str(problem.get("key") or "")
    message = str(problem.get("message") or "invalid value")
    if message == repr(key):  # Litestar's KeyError: nothing was sent for it
        message = "required" if key != _WHOLE_BODY else "a JSON object is required"
    named = _NAMED_FIELD.search(message)
    if problem.get("source") == "body" and key in ("", _WHOLE_BODY):
        key = named.group(1) if named else "body"
    elif named:
        key = f"{key}.{named.group(1)}" if key else named.group(1)
    return FieldProblem(field=key or "body", message=message)


def handle_validation_error(
    _: Request[Any, Any, Any], exc: ValidationException
) -> Response[ErrorBody]:
    """Litestar's request validation, in our shape: every problem, the first as ``field``."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    problems = [validation_problem(problem) for problem in extra]
    if not problems:
        problems = [FieldProblem(field="body", message=exc.detail)]
    detail = "Invalid request: " + "; ".join(f"{p.field}: {p.message}" for p in problems)
    return error_response(HTTP_400_BAD_REQUEST, detail, problems=problems)


def handle_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    """Litestar's own errors (404, 405, 413, malformed JSON, …) without its ``extra``."""
    problems = None
    if exc.status_code == HTTP_400_BAD_REQUEST and isinstance(
        exc.__cause__, SerializationException
    ):
        # The body could not be decoded (Litestar re-raises it as a ClientException).
        problems = [FieldProblem(field="body", message=exc.detail)]
        detail = f"body: {exc.detail}"
    else:
        detail = exc.detail
    return error_response(exc.status_code, detail, headers=exc.headers, problems=problems)


def handle_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """A bug: log it with its traceback, answer 500 without internals.

    Unless the client hung up before its request body was whole (Litestar raises a 500
    for that too): a normal event, one line, and a 499 for the metrics (nobody reads it).
    """
    if isinstance(exc, InternalServerException) and client_hung_up(request.scope):
        logger.info(
            "client hung up before its request body was whole: %s %s",
            request.method,
            request.url.path,
        )
        return error_response(CLIENT_CLOSED_REQUEST, "Client closed the request")
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error")


def handle_undecodable_body(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Bodies the JSON decoder or Postgres cannot take: not UTF-8, too deep, NUL in text."""
    if isinstance(exc, UnicodeDecodeError):
        message = "not valid UTF-8"
    elif isinstance(exc, RecursionError):
        message = "nested too deeply"
    else:
        message = "text holds a character that cannot be stored (NUL)"
    problems = [FieldProblem(field="body", message=message)]
    return error_response(HTTP_400_BAD_REQUEST, f"body: {message}", problems=problems)


# Litestar picks a handler by status code first (so an HTTPException with 500 goes to
# handle_unexpected_error), then by the exception's classes, most specific first; the 500
# entry catches every exception that nothing above maps.
EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTP_500_INTERNAL_SERVER_ERROR: handle_unexpected_error,
    ServiceError: handle_service_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_exception,
    **dict.fromkeys(REDIS_OUTAGE_ERRORS, handle_redis_outage),
    UnicodeDecodeError: handle_undecodable_body,
    RecursionError: handle_undecodable_body,
    asyncpg.UntranslatableCharacterError: handle_undecodable_body,
    asyncpg.CharacterNotInRepertoireError: handle_undecodable_body,
}
