"""``GET /v1/audit``: what the admin and the server keys changed, newest first."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from leaderboard.audit.deps import AuditDep
from leaderboard.audit.models import AuditPage
from leaderboard.auth.guards import admin_only
from leaderboard.lib.openapi import BEARER, ApiOperation, errors


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["moderation"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get(
        "/",
        summary="The audit log (admin): every admin and server-key write, newest first",
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
    ) -> AuditPage:
        return await audit.page(limit, before)
