"""``GET /v1/audit``: what the admin and the server keys changed, newest first."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from leaderboard.audit.deps import AuditDep
from leaderboard.audit.models import AuditPage
from leaderboard.auth.guards import admin_only


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["moderation"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get(
        "/",
        summary="The audit log (admin): every admin and server-key write, newest first",
        guards=[admin_only],
    )
    async def audit_log(
        self,
        audit: AuditDep,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        before: Annotated[int | None, QueryParameter(ge=1, description="an entry's id")] = None,
    ) -> AuditPage:
        return await audit.page(limit, before)
