"""``/v1/leaderboards``: creating, listing and deleting boards."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from leaderboard.auth.guards import admin_only
from leaderboard.boards.deps import BoardsDep
from leaderboard.boards.models import Board, BoardCreate, BoardList


class BoardsController(Controller):
    path = "/v1/leaderboards"
    tags = ["leaderboards"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post(
        "/",
        summary="Create a leaderboard (admin); 409 when the id exists",
        guards=[admin_only],
    )
    async def create(self, data: JSONBody[BoardCreate], boards: BoardsDep) -> Board:
        return await boards.create(data)

    @get("/", summary="Every leaderboard")
    async def list_boards(self, boards: BoardsDep) -> BoardList:
        return BoardList(leaderboards=await boards.list())

    @get("/{board_id:str}", summary="A leaderboard's configuration")
    async def get_board(self, board_id: FromPath[str], boards: BoardsDep) -> Board:
        return await boards.get(board_id)

    @delete(
        "/{board_id:str}",
        status_code=204,
        summary="Delete a board, its scores and keys (admin)",
        guards=[admin_only],
    )
    async def delete_board(self, board_id: FromPath[str], boards: BoardsDep) -> None:
        await boards.delete(board_id)
