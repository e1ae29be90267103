"""``POST /v1/leaderboards/{id}/scores``: score submission (reads: ranking_controller.py)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.params import FromPath, JSONBody

from leaderboard.auth.guards import authenticated
from leaderboard.auth.principal import Principal
from leaderboard.boards.deps import ScoresDep
from leaderboard.boards.models import ScoreSubmission, SubmitResult
from leaderboard.lib.errors import InvalidInputError
from leaderboard.lib.negotiation import negotiated

IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7e]{1,128}$")


def idempotency_key(request: Request[Any, Any, Any]) -> str | None:
    """The ``Idempotency-Key`` header: 1 to 128 printable ASCII characters, if sent."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise InvalidInputError("Idempotency-Key", "expected 1 to 128 printable ASCII characters")
    return key


class ScoresController(Controller):
    path = "/v1/leaderboards/{board_id:str}"
    tags = ["leaderboards"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post(
        "/scores",
        status_code=200,
        summary="Submit a score (player; or admin with player_id); answers the new rank",
        description="Throttled per player by the board's rate limit (429 with Retry-After). "
        "A 200 means the score is committed.",
        guards=[authenticated],
    )
    async def submit_score(
        self,
        request: Request[Any, Principal, Any],
        board_id: FromPath[str],
        data: JSONBody[ScoreSubmission],
        scores: ScoresDep,
    ) -> Response[SubmitResult]:
        # Litestar converts bodies leniently ("10" would become 10); a score must be a
        # JSON integer. The parsed body is cached, so this reads no byte twice.
        raw = await request.json()
        if type(raw.get("score")) is not int:
            raise InvalidInputError("score", "must be a JSON integer")
        caller = request.auth
        player_id = caller.submitting_for(data.player_id, board_id)
        submitted = await scores.submit_score(
            board_id,
            player_id,
            data.score,
            data.metadata,
            idempotency_key=idempotency_key(request),
            actor=caller.actor,
        )
        headers = submitted.headers
        if submitted.replayed:
            headers = {**headers, "Idempotent-Replayed": "true"}
        return negotiated(request, submitted.result, headers=headers)
