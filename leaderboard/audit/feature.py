"""The audit log: every admin and server-key write, committed with the change."""

from __future__ import annotations

from leaderboard.audit.controller import AuditController
from leaderboard.audit.repository import AuditLog
from leaderboard.lib.features import Feature, Provided, Services


def build(services: Services) -> None:
    services.add(AuditLog(services.infra.db))


FEATURE = Feature(
    name="audit", handlers=[AuditController], build=build, provides=[Provided("audit", AuditLog)]
)
