"""The live leaderboard page: ``GET /boards/{id}``, plain HTML/CSS/JS, no build step."""

from __future__ import annotations

from importlib.resources import files

from litestar import MediaType, Response, get
from litestar.params import FromPath

_PAGE = files("leaderboard.web").joinpath("board.html").read_bytes()


@get("/boards/{board_id:str}", include_in_schema=False, media_type=MediaType.HTML)
async def board_page(board_id: FromPath[str]) -> Response[bytes]:
    """The page reads the board id from its own URL and talks to the public API."""
    return Response(_PAGE, media_type=MediaType.HTML)
