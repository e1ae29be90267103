"""Exactly-once submissions: the ``Idempotency-Key`` header (docs/api.md).

Postgres decides: the key is inserted in the statement that applies the score
(writer.py), so a repeat finds it and writes nothing, whatever happened to the first
attempt. Redis keeps the first attempt's answer for 24 hours, so a repeat normally costs
one Redis call and is answered with exactly that answer. When the answer is not there (the
first attempt is still running, or its worker died, or Redis lost it), the key's row in
Postgres tells what to do.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

import msgspec

from leaderboard.lib.db import Database
from leaderboard.lib.keys import Keys
from leaderboard.lib.scripts import LuaScript, ScriptPipeline
from leaderboard.scores.models import HeldResult, SubmitResult

ANSWERS = LuaScript.load(__package__, "idempotent_answers.lua")


class StoredAnswer(msgspec.Struct, kw_only=True):
    request: str
    """Hex SHA-256 of the submitted body: the same key with another body is refused."""
    result: SubmitResult | None = None
    held: HeldResult | None = None
    """A submission held for review (202): its answer, in place of ``result``."""

    @property
    def answer(self) -> SubmitResult | HeldResult:
        answer = self.held or self.result
        assert answer is not None, "an answer is stored with one of the two"
        return answer


class KeyRecord(msgspec.Struct, kw_only=True):
    request_hash: bytes
    period: date
    created_at: datetime


def request_hash(player_id: str, score: int, metadata: dict[str, Any] | None) -> bytes:
    """What identifies a submission's body, whatever the order of its JSON keys."""
    body = {"player_id": player_id, "score": score, "metadata": metadata}
    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).digest()


class IdempotencyStore:
    def __init__(self, db: Database, pipeline: ScriptPipeline, keys: Keys) -> None:
        self._db = db
        self._keys = keys
        self._answers = pipeline.bind(ANSWERS)

    def answer_key(self, board_id: str, player_id: str, key: str) -> str:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return self._keys.idempotent_answer(board_id, player_id, digest)

    async def answer(self, board_id: str, player_id: str, key: str) -> StoredAnswer | None:
        raw = await self._answers([self.answer_key(board_id, player_id, key)], ["get"])
        return None if raw is None else msgspec.json.decode(raw, type=StoredAnswer)

    async def remember(
        self,
        board_id: str,
        player_id: str,
        key: str,
        request: bytes,
        result: SubmitResult | HeldResult,
    ) -> None:
        stored = (
            StoredAnswer(request=request.hex(), held=result)
            if isinstance(result, HeldResult)
            else StoredAnswer(request=request.hex(), result=result)
        )
        answer = msgspec.json.encode(stored).decode()
        await self._answers([self.answer_key(board_id, player_id, key)], ["put", answer])

    async def record(self, board_id: str, player_id: str, key: str) -> KeyRecord | None:
        """The key's row in Postgres: present once a submission with it committed."""
        row = await self._db.fetchrow(
            """
            SELECT request_hash, period_start, created_at FROM idempotency_keys
             WHERE leaderboard_id = $1 AND player_id = $2 AND key = $3
            """,
            board_id,
            player_id,
            key,
        )
        if row is None:
            return None
        return KeyRecord(
            request_hash=bytes(row["request_hash"]),
            period=row["period_start"],
            created_at=row["created_at"],
        )
