"""Verified results over HTTP: a player's submissions, the review queue, decisions, voids."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from leaderboard.auth.guards import authenticated
from leaderboard.auth.principal import Principal
from leaderboard.lib.openapi import BEARER, ApiOperation, errors
from leaderboard.ranking.controller import PeriodQuery
from leaderboard.submissions.deps import SubmissionsDep
from leaderboard.submissions.models import Decision, SubmissionList, SubmissionView

Caller = Request[Any, Principal, Any]
_DECIDED = "The submission is decided already (approved, rejected, voided)."


class LedgerController(Controller):
    """The lists: one player's submissions, and a board's review queue."""

    path = "/v1/leaderboards/{board_id:str}"
    tags = ["verified results"]  # noqa: RUF012 - Litestar reads it as a class attribute
    guards = [authenticated]  # noqa: RUF012

    @get(
        "/players/{player_id:str}/submissions",
        summary="A player's submissions of a period, newest first (that player, or admin)",
        description="Every submission the ledger keeps (`ledger_days`), whatever its status: "
        "accepted, pending, approved, rejected (with the reason) or voided.",
        operation_id="listPlayerSubmissions",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(400, 401, 403, 404, 503, notes={404: "No such leaderboard."}),
    )
    async def of_player(
        self,
        request: Caller,
        board_id: FromPath[str],
        player_id: FromPath[str],
        submissions: SubmissionsDep,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 50,
        period: PeriodQuery = None,
    ) -> SubmissionList:
        found = await submissions.of_player(board_id, player_id, period, limit, request.auth)
        return SubmissionList(submissions=found)

    @get(
        "/submissions",
        summary="The review queue: pending submissions, oldest first (admin, server key)",
        operation_id="listPendingSubmissions",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(400, 401, 403, 404, 503, notes={404: "No such leaderboard."}),
    )
    async def queue(
        self,
        request: Caller,
        board_id: FromPath[str],
        submissions: SubmissionsDep,
        status: Annotated[Literal["pending"], QueryParameter()] = "pending",
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> SubmissionList:
        return SubmissionList(submissions=await submissions.queue(board_id, limit, request.auth))


class SubmissionsController(Controller):
    """One submission: read it, decide on it, void it."""

    path = "/v1/submissions/{submission_id:int}"
    tags = ["verified results"]  # noqa: RUF012
    guards = [authenticated]  # noqa: RUF012

    @get(
        "/",
        summary="One submission (its player, the admin, a server key of its board)",
        operation_id="getSubmission",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(400, 401, 403, 404, 503, notes={404: "Not in the ledger."}),
    )
    async def read(
        self, request: Caller, submission_id: FromPath[int], submissions: SubmissionsDep
    ) -> SubmissionView:
        return await submissions.get(submission_id, request.auth)

    @post(
        "/approve",
        status_code=200,
        summary="Approve a held submission (admin, server key): it counts now",
        description="Applied with the board's operator to the period it was submitted in; "
        "ranks, events and audit as for an accepted submission.",
        operation_id="approveSubmission",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(
            400,
            401,
            403,
            404,
            409,
            503,
            notes={
                403: "Also a banned player's submission (it stays pending).",
                404: "Not in the ledger.",
                409: _DECIDED + " Or the player reached max_submissions.",
            },
        ),
    )
    async def approve(
        self, request: Caller, submission_id: FromPath[int], submissions: SubmissionsDep
    ) -> SubmissionView:
        return await submissions.approve(submission_id, request.auth)

    @post(
        "/reject",
        status_code=200,
        summary="Reject a held submission (admin, server key): it never counts",
        operation_id="rejectSubmission",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(
            400, 401, 403, 404, 409, 413, 503, notes={404: "Not in the ledger.", 409: _DECIDED}
        ),
    )
    async def reject(
        self,
        request: Caller,
        submission_id: FromPath[int],
        data: JSONBody[Decision],
        submissions: SubmissionsDep,
    ) -> SubmissionView:
        return await submissions.reject(submission_id, data.reason, request.auth)

    @post(
        "/void",
        status_code=200,
        summary="Void a counted submission (admin): the player's score is recomputed",
        description="The stored score of the submission's period is recomputed from the "
        "player's remaining counted submissions (`best`: the best; `latest`: the newest; "
        "`sum`: their total); with none left the entry is removed. Ranks, events "
        "(`rank_changed` or `entry_removed`) and the audit log follow.",
        operation_id="voidSubmission",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(
            400,
            401,
            403,
            404,
            409,
            413,
            503,
            notes={
                404: "No submission ever had this id.",
                409: "Voided already, not counted (pending, rejected), or no longer kept "
                "by the ledger.",
            },
        ),
    )
    async def void(
        self,
        request: Caller,
        submission_id: FromPath[int],
        data: JSONBody[Decision],
        submissions: SubmissionsDep,
    ) -> SubmissionView:
        return await submissions.void(submission_id, data.reason, request.auth)
