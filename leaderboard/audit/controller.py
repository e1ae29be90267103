"""``GET /v1/audit``: what the admin and the server keys changed, newest first."""

from __future__ import annotations

import re
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from leaderboard.audit.deps import AuditDep
from leaderboard.audit.models import AuditAction, AuditFilter, AuditPage
from leaderboard.auth.guards import admin_only
from leaderboard.lib.errors import InvalidInputError
from leaderboard.lib.openapi import BEARER, ApiOperation, errors
from leaderboard.lib.validation import BOARD_ID

# Checked here with fullmatch (a 400 naming the parameter); the schema shows the patterns.
_ACTOR = re.compile(r"^(admin|server-key:[0-9a-f]{32})$")


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["moderation"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get(
        "/",
        summary="The audit log (admin): every admin and server-key write, newest first",
        description="Filters (`action`, `actor`, `leaderboard`) combine: an entry must pass "
        "every one given. `leaderboard` keeps the entries about that board and about "
        "entries and submissions on it.",
        guards=[admin_only],
        operation_id="getAuditLog",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(400, 401, 403, 503),
    )
    async def audit_log(
        self,
        audit: AuditDep,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        # le: ids are Postgres bigints; a larger one reached the driver and failed with 500.
        before: Annotated[
            int | None, QueryParameter(ge=1, le=2**63 - 1, description="an entry's id")
        ] = None,
        action: Annotated[
            AuditAction | None, QueryParameter(description="one kind of write")
        ] = None,
        actor: Annotated[
            str | None,
            QueryParameter(
                max_length=64,
                description="`admin`, or `server-key:<id>` for one server key",
                schema_extra={"pattern": _ACTOR.pattern},
            ),
        ] = None,
        leaderboard: Annotated[
            str | None,
            QueryParameter(
                max_length=64,
                description="a board's id",
                schema_extra={"pattern": BOARD_ID.pattern},
            ),
        ] = None,
    ) -> AuditPage:
        if actor is not None and not _ACTOR.fullmatch(actor):
            raise InvalidInputError("actor", "expected 'admin' or 'server-key:<id>'")
        if leaderboard is not None and not BOARD_ID.fullmatch(leaderboard):
            raise InvalidInputError("leaderboard", "expected a board id (a-z, 0-9, _ and -)")
        where = AuditFilter(action=action, actor=actor, leaderboard=leaderboard, before=before)
        return await audit.page(limit, where)
