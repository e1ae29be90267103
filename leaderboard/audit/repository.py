"""The audit log in Postgres: every write by the admin or a server key, kept for good.

Writes record their entry in their own transaction (``record``), so a change and its
entry commit together or not at all. Score submissions by the admin or a server key are
recorded by the statement that applies them (scores/writer.py).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from leaderboard.audit.models import AuditAction, AuditEntry, AuditFilter, AuditPage
from leaderboard.lib.db import Connection, Database
from leaderboard.lib.logs import REQUEST_ID

_COLUMNS = "id, at, actor, action, target, request_id, details"
# Entries written before 0.3 named the one period of a board that never resets by its
# stored date (boards/periods.py, ALL_TIME); the API calls it null, and so do they now.
_ALL_TIME = "1970-01-01"
# A target's board part: "leaderboard:<id>" of "leaderboard:<id>" and of
# "leaderboard:<id>/player:<id>". The expression is the one indexed (0009_audit_filters).
_TARGET_HEAD = "split_part(target, '/', 1)"


def page_query(limit: int, where: AuditFilter) -> tuple[str, list[Any]]:
    """The statement (and its arguments) that reads a page: one more row than ``limit``.

    Only the filters that are set become conditions, each one an index can serve.
    """
    args: list[Any] = [limit + 1]
    conditions = []
    for condition, value in (
        ("id < ${}::bigint", where.before),
        ("action = ${}", where.action),
        ("actor = ${}", where.actor),
        (f"{_TARGET_HEAD} = 'leaderboard:' || ${{}}::text", where.leaderboard),
    ):
        if value is not None:
            args.append(value)
            conditions.append(condition.format(len(args)))
    filtered = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    sql = f"SELECT {_COLUMNS} FROM audit_log {filtered} ORDER BY id DESC LIMIT $1"
    return sql, args


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        conn: Connection,
        *,
        actor: str,
        action: AuditAction,
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

    async def page(self, limit: int, where: AuditFilter) -> AuditPage:
        """Up to ``limit`` entries that pass ``where``, newest first."""
        sql, args = page_query(limit, where)
        rows = await self._db.fetch(sql, *args)
        entries = [_entry(row) for row in rows[:limit]]
        more = len(rows) > limit
        return AuditPage(entries=entries, next_before=entries[-1].id if more else None)


def _entry(row: asyncpg.Record) -> AuditEntry:
    details = row["details"]
    if details.get("period") == _ALL_TIME:
        details = {**details, "period": None}
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        request_id=row["request_id"],
        details=details,
    )
