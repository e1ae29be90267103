"""``/v1/leaderboards``: creating, listing, changing and deleting boards."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from leaderboard.auth.guards import admin_only
from leaderboard.auth.principal import Principal
from leaderboard.boards.deps import BoardsDep
from leaderboard.boards.models import Board, BoardCreate, BoardList, BoardPatch
from leaderboard.lib.openapi import BEARER, ApiOperation, errors


class BoardsController(Controller):
    path = "/v1/leaderboards"
    tags = ["leaderboards"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post(
        "/",
        summary="Create a leaderboard (admin); 409 when the id exists",
        guards=[admin_only],
        operation_id="createLeaderboard",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(
            400,
            401,
            403,
            409,
            413,
            503,
            notes={
                400: "Also min_score above max_score, an ends_at already past or not after "
                "starts_at, a time without a UTC offset, or metadata over 4 KiB of JSON or "
                "holding NUL characters.",
                409: "A leaderboard has this id already.",
            },
        ),
    )
    async def create(
        self,
        request: Request[Any, Principal, Any],
        data: JSONBody[BoardCreate],
        boards: BoardsDep,
    ) -> Board:
        return boards.with_state(await boards.create(data, request.auth.actor or "admin"))

    @get(
        "/",
        summary="Every leaderboard",
        operation_id="listLeaderboards",
        operation_class=ApiOperation,
        responses=errors(503),
    )
    async def list_boards(self, boards: BoardsDep) -> BoardList:
        return BoardList(leaderboards=[boards.with_state(b) for b in await boards.list()])

    @get(
        "/{board_id:str}",
        summary="A leaderboard's configuration, and whether it is open",
        operation_id="getLeaderboard",
        operation_class=ApiOperation,
        responses=errors(404, 503),
    )
    async def get_board(self, board_id: FromPath[str], boards: BoardsDep) -> Board:
        return boards.with_state(await boards.get(board_id))

    @patch(
        "/{board_id:str}",
        summary="Change a board's rules (admin); in effect at once in every worker",
        description="Any of `name`, `metadata`, `rate_limit`, `client_submissions`, "
        "`min_score`, `max_score`, `starts_at`, `ends_at`, `max_submissions`, "
        "`overtake_events`, `keep_periods`, `ranks`; absent fields stay, null clears the optional "
        "ones. `id`, `order`, `operator` and `reset` are fixed at creation (400). Audited.",
        guards=[admin_only],
        operation_id="updateLeaderboard",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(
            400,
            401,
            403,
            404,
            413,
            503,
            notes={
                400: "Also a field fixed at creation (order, operator, reset), an ends_at "
                "already past or not after starts_at, min_score above max_score, or "
                "keep_periods on a board that never resets.",
            },
        ),
    )
    async def update_board(
        self,
        request: Request[Any, Principal, Any],
        board_id: FromPath[str],
        data: JSONBody[BoardPatch],
        boards: BoardsDep,
    ) -> Board:
        return boards.with_state(await boards.update(board_id, data, request.auth.actor or "admin"))

    @delete(
        "/{board_id:str}",
        status_code=204,
        summary="Delete a board, its scores and keys (admin)",
        guards=[admin_only],
        operation_id="deleteLeaderboard",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(401, 403, 404, 503),
    )
    async def delete_board(
        self, request: Request[Any, Principal, Any], board_id: FromPath[str], boards: BoardsDep
    ) -> None:
        await boards.delete(board_id, request.auth.actor or "admin")
