"""How the HTTP API describes itself (``/schema/openapi.json``), and the one error body.

Clients are generated from the document (C# for Unity, GDScript for Godot, Python), so it
must say exactly what each operation answers: every status it can give, each error body
in one shape, the headers a client has to read (``Retry-After``). Litestar documents a
handler's success response by itself and adds a 400 of its own (``extra`` as an object or
array with ``additionalProperties``, which generators cannot type); ``errors(...)`` in
each handler's ``responses=`` replaces it and lists the rest.

- :class:`ErrorBody`: every 4xx/5xx body (``server/error_handlers.py`` renders it).
- :func:`errors`: an operation's error responses, one description per status.
- :class:`ApiOperation`: adds the headers those responses carry.
- :data:`BEARER` and :data:`SECURITY_SCHEMES`: which operations want a token.
- :func:`allow_methods_middleware`: ``OPTIONS`` answered with every method of the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar.datastructures import ResponseHeader
from litestar.enums import ScopeType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Receive, Scope, Send
from msgspec import Meta


class FieldProblem(msgspec.Struct, kw_only=True):
    """One problem with the request: the field it concerns and what is wrong with it."""

    field: Annotated[
        str,
        Meta(
            description="A body field (`display_name`, `rate_limit.limit`, `leaderboards[0]`), "
            "a query parameter (`limit`), a header (`Idempotency-Key`), or `body` for the "
            "body as a whole."
        ),
    ]
    message: str


# Field descriptions go through Meta: the document shows them, attribute docstrings not.
class ErrorBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The body of every error the service answers (4xx and 5xx)."""

    status_code: Annotated[
        int, Meta(ge=400, le=599, description="The response's status code, repeated.")
    ]
    detail: Annotated[
        str,
        Meta(description="What went wrong, for people; a 400's names the field first."),
    ]
    field: (
        Annotated[str, Meta(description="400: the first offending field, as in `errors`.")]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    errors: (
        Annotated[
            list[FieldProblem],
            Meta(description="400: every problem found, `field`'s first.", min_length=1),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    dependency: (
        Annotated[str, Meta(description="503: what is unavailable, `postgres` or `redis`.")]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    outcome: (
        Annotated[
            Literal["unknown"],
            Meta(
                description="503 on a write: it may or may not have been applied; retry "
                "with the same `Idempotency-Key` to apply it exactly once."
            ),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET


# What each status means in this service. An operation may say more (``notes=``), but a
# status never changes meaning between operations.
STATUS_DESCRIPTIONS: Mapping[int, str] = {
    400: "Invalid input. `field` names the first offending field (a body field, a query "
    "parameter, a header, or `body` when the body is not a JSON object of the right shape) "
    "and `errors` lists every problem found; `detail` names the field too.",
    401: "No bearer token, or one that is malformed, unknown, expired or revoked "
    "(`WWW-Authenticate: Bearer`).",
    403: "The token is valid but may not do this.",
    404: "Not found. Malformed ids are unknown ids: a 404, not a 400.",
    409: "Conflicts with the current state.",
    413: "The body is larger than the service accepts (`LEADERBOARD_MAX_BODY_BYTES`, "
    "1 MiB by default).",
    422: "The `Idempotency-Key` was used before with another body.",
    429: "Too many requests: retry after `Retry-After` seconds.",
    503: "Postgres or Redis is unavailable (`dependency` names it): retry after "
    "`Retry-After` seconds. On a write, `outcome: unknown` says it may have been applied.",
}


def errors(*statuses: int, notes: Mapping[int, str] | None = None) -> dict[int, ResponseSpec]:
    """The error responses of an operation: ``responses=errors(400, 404, 503)``.

    ``notes`` adds what a status means for this operation (``{409: "the id exists"}``).
    """
    notes = notes or {}
    unknown = (set(statuses) | set(notes)) - set(STATUS_DESCRIPTIONS)
    if unknown:
        raise ValueError(f"no description for status {sorted(unknown)}")
    if set(notes) - set(statuses):
        raise ValueError(f"notes for statuses not listed: {sorted(set(notes) - set(statuses))}")
    return {
        status: ResponseSpec(
            ErrorBody,
            description=f"{STATUS_DESCRIPTIONS[status]} {notes[status]}".strip()
            if status in notes
            else STATUS_DESCRIPTIONS[status],
            # Litestar's generated examples are random values that contradict the text.
            generate_examples=False,
        )
        for status in sorted(statuses)
    }


def _header(description: str, *, required: bool, kind: OpenAPIType) -> OpenAPIHeader:
    return OpenAPIHeader(schema=Schema(type=kind), description=description, required=required)


_RATE_LIMIT_HEADERS: dict[str, OpenAPIHeader] = {
    "RateLimit-Limit": _header(
        "Requests allowed per window.", required=False, kind=OpenAPIType.INTEGER
    ),
    "RateLimit-Remaining": _header(
        "Requests left in the current window.", required=False, kind=OpenAPIType.INTEGER
    ),
    "RateLimit-Reset": _header(
        "Seconds until the window frees a request.", required=False, kind=OpenAPIType.INTEGER
    ),
}
# The headers that error responses carry, by status (error_handlers.py sends them).
_ERROR_HEADERS: Mapping[str, Mapping[str, OpenAPIHeader]] = {
    "401": {
        "WWW-Authenticate": _header(
            "`Bearer`: the token scheme expected.", required=True, kind=OpenAPIType.STRING
        )
    },
    "429": {
        "Retry-After": _header(
            "Seconds to wait before trying again.", required=True, kind=OpenAPIType.INTEGER
        ),
        **_RATE_LIMIT_HEADERS,
    },
    "503": {
        "Retry-After": _header(
            "Seconds to wait before trying again.", required=True, kind=OpenAPIType.INTEGER
        )
    },
}

_KNOWN: Mapping[str, OpenAPIHeader] = {
    name: header for headers in _ERROR_HEADERS.values() for name, header in headers.items()
}

# The RateLimit-* headers of a throttled operation's successful answers (its 429's are
# documented by ApiOperation).
RATE_LIMIT_HEADERS = [
    ResponseHeader(name=name, description=header.description, documentation_only=True)
    for name, header in _RATE_LIMIT_HEADERS.items()
]


@dataclass
class ApiOperation(Operation):
    """An operation whose error responses document their headers (``Retry-After``, …).

    Litestar's ``ResponseSpec`` has no headers; every handler passes
    ``operation_class=ApiOperation``, and the headers follow from the status alone.
    It also drops the 400 that Litestar adds to every operation with parameters (an
    inline schema, not ErrorBody): an operation whose parameters cannot be refused (a
    path's ``player_id`` is any string; a malformed one is a 404) answers no 400, and one
    that can lists it with ``errors()``.
    """

    def __post_init__(self) -> None:
        responses = self.responses or {}
        for status, response in list(responses.items()):
            if int(status) >= 400 and not _declared(response):
                del responses[status]
                continue
            if status in _ERROR_HEADERS and _is_error_body(response):
                assert isinstance(response, OpenAPIResponse)
                response.headers = {**(response.headers or {}), **_ERROR_HEADERS[status]}
            if isinstance(response, OpenAPIResponse):
                _complete_headers(response)


def _complete_headers(response: OpenAPIResponse) -> None:
    """Give RATE_LIMIT_HEADERS their schemas (a valueless ``ResponseHeader`` gets none).

    And put the headers in a fixed order: Litestar hands a handler's ``response_headers``
    over as a frozenset, whose order changes from one process to the next (and with it
    the document, and the clients generated from it).
    """
    if not response.headers:
        return
    for name, header in response.headers.items():
        if isinstance(header, OpenAPIHeader) and header.schema is None and name in _KNOWN:
            header.schema = _KNOWN[name].schema
    known = list(_KNOWN)
    response.headers = dict(
        sorted(
            response.headers.items(),
            key=lambda item: (known.index(item[0]) if item[0] in known else len(known), item[0]),
        )
    )


def _declared(response: OpenAPIResponse | Reference) -> bool:
    """Whether an error response was declared by a handler (its schema is a component)."""
    if not isinstance(response, OpenAPIResponse) or not response.content:
        return True
    return all(isinstance(media.schema, Reference) for media in response.content.values())


def _is_error_body(response: OpenAPIResponse | Reference) -> bool:
    if not isinstance(response, OpenAPIResponse) or not response.content:
        return False
    # While the document is built a component's reference is named after its module path
    # (``…/leaderboard_lib_openapi_ErrorBody``); Litestar shortens the names at the end.
    return any(
        isinstance(media.schema, Reference) and media.schema.ref.endswith(ErrorBody.__name__)
        for media in response.content.values()
    )


BEARER_SCHEME = "bearer"
SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    BEARER_SCHEME: SecurityScheme(
        type="http",
        scheme="bearer",
        description="A player's session token (`POST /v1/auth/device`), the admin token, "
        "or a server key (`POST /v1/server-keys`).",
    )
}
# ``security=BEARER`` on an operation that wants a token.
BEARER: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]


def allow_methods_middleware(app: ASGIApp) -> ASGIApp:
    """Answer ``OPTIONS`` with every method of the path, before any guard runs.

    Litestar 2 builds the ``OPTIONS`` handler of a path when the path's first handler is
    registered, and a controller registers its handlers one at a time: the ``Allow``
    header then lists the first handler's method only (litestar-org/litestar#4169, fixed
    in Litestar 3). That handler also inherits the controller's guards, so ``OPTIONS`` on
    an admin controller's paths asked for a token. This middleware answers instead, from
    the app's routes for the matched path, for the handlers that Litestar generated.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "OPTIONS" or not _generated(scope):
            await app(scope, receive, send)
            return
        # Looked up on each request (a few dozen routes; OPTIONS is rare), so routes
        # registered after the app was built are counted too.
        allow = _allowed_methods(scope, scope["path_template"])
        if not allow:
            await app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(b"allow", ", ".join(sorted(allow)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return middleware


def _generated(scope: Scope) -> bool:
    """Whether the request reached Litestar's own ``OPTIONS`` handler (not one of ours)."""
    handler: Any = scope.get("route_handler")
    name = getattr(getattr(handler, "fn", None), "__qualname__", "")
    return str(name).startswith("HTTPRoute.create_options_handler.")


def _allowed_methods(scope: Scope, path: str) -> set[str]:
    """Every method of the HTTP routes at ``path`` (Litestar's path format)."""
    allowed: set[str] = set()
    for route in scope["litestar_app"].routes:
        if isinstance(route, HTTPRoute) and route.path_format == path:
            allowed.update(route.methods)
    return allowed
