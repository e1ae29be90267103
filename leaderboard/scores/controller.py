"""``POST /v1/leaderboards/{id}/scores``: score submission (reads: ranking_controller.py)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Request, Response, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody

from leaderboard.auth.guards import authenticate_leaving_session_unchecked, confirm_session
from leaderboard.auth.principal import Principal
from leaderboard.lib.errors import InvalidInputError, ServiceError
from leaderboard.lib.negotiation import negotiated
from leaderboard.lib.openapi import BEARER, RATE_LIMIT_HEADERS, ApiOperation, errors
from leaderboard.scores.deps import ScoresDep
from leaderboard.scores.models import HeldResult, ScoreSubmission, SubmitResult

IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7e]{1,128}$")
# The header as the OpenAPI document shows it. Its constraint goes to the schema only
# (schema_extra): idempotency_key() checks it, with a 400 naming the header.
IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description="Makes a retry safe: a submission with a key already applied answers "
        "as the first did (`Idempotent-Replayed: true`) for 24 hours; another body with "
        "the same key is 422, a repeat while the first is in flight 409.",
        schema_extra={"pattern": IDEMPOTENCY_KEY.pattern, "maxLength": 128},
    ),
]


def idempotency_key(request: Request[Any, Any, Any]) -> str | None:
    """The ``Idempotency-Key`` header: 1 to 128 printable ASCII characters, if sent."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInputError("Idempotency-Key", "expected 1 to 128 printable ASCII characters")
    return key


# A player's own submission on a board that reviews it (CONTRACT "Verified results").
HELD = {
    202: ResponseSpec(
        HeldResult,
        description="Held for review (the board's `review`): it counts once approved; "
        "no rank changed.",
        generate_examples=False,
    )
}


class ScoresController(Controller):
    path = "/v1/leaderboards/{board_id:str}"
    tags = ["leaderboards"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post(
        "/scores",
        status_code=200,
        summary="Submit a score (player; or admin with player_id); answers the new rank",
        description="Throttled per player by the board's rate limit (429 with Retry-After). "
        "A 200 means the score is committed.",
        # Authenticated without a guard's copy; a session this worker does not know is
        # checked by the submission's admission, in the Redis call it makes anyway.
        before_request=authenticate_leaving_session_unchecked(ScoreSubmission),
        operation_id="submitScore",
        operation_class=ApiOperation,
        security=BEARER,
        response_headers=RATE_LIMIT_HEADERS,
        responses=HELD
        | errors(
            400,
            401,
            403,
            404,
            409,
            413,
            422,
            429,
            503,
            notes={
                400: "Also no player_id from the admin or a server key, a score written as "
                "a float (`1.0`: JSON Schema calls it an integer, the service does not), a "
                "score outside the board's min_score/max_score, a sum that would leave the "
                "range, or metadata over 4 KiB of JSON or holding NUL characters.",
                403: "A player submitting for another, a banned player, a player's token on "
                "a board that takes scores from game servers only, or a server key "
                "outside its boards.",
                404: "No such leaderboard or player.",
                409: "The board is not open (starts_at/ends_at), the player reached "
                "max_submissions, or a submission with this Idempotency-Key is in flight.",
                429: "Over the board's rate limit for this player.",
            },
        ),
    )
    async def submit_score(
        self,
        request: Request[Any, Principal, Any],
        board_id: FromPath[str],
        data: JSONBody[ScoreSubmission],
        scores: ScoresDep,
        idempotency_key_header: IdempotencyKeyHeader = None,  # documents it; see above
    ) -> Response[SubmitResult | HeldResult]:
        try:
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
                evidence_url=data.evidence_url,
                session=caller.unchecked,
            )
        except ServiceError:
            await confirm_session(request)  # a bad token is a 401 whatever else was wrong
            raise
        headers = submitted.headers
        if submitted.replayed:
            headers = {**headers, "Idempotent-Replayed": "true"}
        held = isinstance(submitted.result, HeldResult)
        return negotiated(
            request, submitted.result, headers=headers, status_code=202 if held else 200
        )
