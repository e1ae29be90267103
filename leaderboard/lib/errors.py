"""Domain errors. Services raise these; they know nothing about HTTP.

:mod:`leaderboard.server.error_handlers` is the one place that turns them into responses.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInputError(ServiceError):
    """The request is well-formed but a field's value is not acceptable."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class NotFoundError(ServiceError):
    """The board, player or entry asked for does not exist."""


class ConflictError(ServiceError):
    """The thing to create exists already."""


class TryLaterError(ConflictError):
    """A conflict that passes by itself (a season being closed): try again in a moment.

    Answered 409 with ``Retry-After`` (whole seconds).
    """

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after_seconds)}


class UnprocessableError(ServiceError):
    """The request contradicts an earlier one (an Idempotency-Key reused with another body)."""


class AuthenticationError(ServiceError):
    """No credentials, or credentials that match nothing."""


class PermissionDeniedError(ServiceError):
    """Valid credentials acting on something that is not theirs."""


class RateLimitedError(ServiceError):
    """Over a rate limit; ``headers`` are the RateLimit-* and Retry-After values to send."""

    def __init__(self, detail: str, headers: Mapping[str, str]) -> None:
        super().__init__(detail)
        self.headers = dict(headers)


class DependencyUnavailableError(ServiceError):
    """Postgres or Redis did not answer in time; the request cannot be served now."""

    def __init__(self, dependency: str, reason: str) -> None:
        super().__init__(f"{dependency} is unavailable: {reason}")
        self.dependency = dependency
        self.reason = reason


class OutcomeUnknownError(DependencyUnavailableError):
    """A write was sent and then its connection failed or timed out: it may have committed.

    Postgres may still commit it (for example when a paused server resumes), so the
    client must not simply submit again: a retry with the same Idempotency-Key is safe.
    """

    def __init__(self, dependency: str, reason: str) -> None:
        super().__init__(dependency, reason)
        self.detail = (
            f"{dependency} did not confirm the write ({reason}): it may or may not have been "
            "recorded. Retry with the same Idempotency-Key header to apply it exactly once."
        )


def outage_reason(exc: BaseException) -> str:
    """A short, public reason for a driver failure.

    Driver messages name internal hosts, ports and users; responses get this instead, and
    the full message goes to the log.
    """
    name = type(exc).__name__
    if isinstance(exc, TimeoutError) or name == "TimeoutError":
        return "timed out"
    reasons = {
        "ConnectionRefusedError": "connection refused",
        "CannotConnectNowError": "not accepting connections yet",
        "TooManyConnectionsError": "too many connections",
        "AdminShutdownError": "shutting down",
        "BusyLoadingError": "loading its data",
        "OutOfMemoryError": "out of memory",
        "ReadOnlyError": "read-only (a replica)",
        "ClusterDownError": "cluster down",
        "SlotNotCoveredError": "cluster down",
        "TryAgainError": "cluster resharding",
    }
    if name in reasons:
        return reasons[name]
    if _refused(exc):
        return "connection refused"
    return "connection failed"


def _refused(exc: BaseException) -> bool:
    """True when ``exc`` or an exception it wraps is a refused connection.

    redis-py reports a refusal as "Error 111 connecting to …", with the OSError as the
    cause or context; asyncpg raises the OSError itself.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or getattr(seen, "errno", None) == (
            errno.ECONNREFUSED
        ):
            return True
        if f"Error {errno.ECONNREFUSED} " in str(seen) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
