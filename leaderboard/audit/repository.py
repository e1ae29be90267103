"""The audit log in Postgres: every write by the admin or a server key, kept for good.

Writes record their entry in their own transaction (``record``), so a change and its
entry commit together or not at all. Score submissions by the admin or a server key are
recorded by the statement that applies them (scores/writer.py).
"""

from __future__ import annotations

from typing import Any

from leaderboard.audit.models import AuditEntry, AuditPage
from leaderboard.lib.db import Connection, Database
from leaderboard.lib.logs import REQUEST_ID

_COLUMNS = "id, at, actor, action, target, request_id, details"


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        conn: Connection,
        *,
        actor: str,
        action: str,
        target: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Add an entry inside the caller's transaction (the request id is the current one)."""
        await conn.execute(
            """
            INSERT INTO audit_log (actor, action, target, request_id, details)
            VALUES ($1, $2, $3, $4, $5)
            """,
            actor,
            action,
            target,
            REQUEST_ID.get(),
            details or {},
        )

    async def page(self, limit: int, before: int | None) -> AuditPage:
        """Up to ``limit`` entries older than ``before`` (newest first)."""
        rows = await self._db.fetch(
            f"""
            SELECT {_COLUMNS} FROM audit_log
             WHERE $2::bigint IS NULL OR id < $2
             ORDER BY id DESC LIMIT $1
            """,
            limit + 1,
            before,
        )
        entries = [
            AuditEntry(
                id=row["id"],
                at=row["at"],
                actor=row["actor"],
                action=row["action"],
                target=row["target"],
                request_id=row["request_id"],
                details=row["details"],
            )
            for row in rows[:limit]
        ]
        more = len(rows) > limit
        return AuditPage(entries=entries, next_before=entries[-1].id if more else None)
