"""HTML for people: the live pages, the API docs pages and their static files.

``GET /boards/{id}`` serves ``board.html`` and ``GET /leagues/{id}`` ``league.html`` (plain
HTML/CSS/JS over the public API, no build step); their scripts and styles, the docs'
pinned UIs and the favicon are in ``static/``, served under ``/static``. Every page
carries the security headers of ``security.py``.
"""

from __future__ import annotations

from importlib.resources import files

from litestar import MediaType, Response, get
from litestar.params import FromPath

from leaderboard.web.docs import OfflineScalar, OfflineSwagger
from leaderboard.web.security import BOARD_PAGE_CSP, DOCS_CSP, nosniff, page_headers
from leaderboard.web.static_files import STATIC_PATH, static_files_router

__all__ = [
    "DOCS_CSP",
    "STATIC_PATH",
    "OfflineScalar",
    "OfflineSwagger",
    "board_page",
    "league_page",
    "nosniff",
    "page_headers",
    "static_files_router",
]

_PAGE = files("leaderboard.web").joinpath("board.html").read_bytes()
_LEAGUE_PAGE = files("leaderboard.web").joinpath("league.html").read_bytes()


@get(
    "/boards/{board_id:str}",
    include_in_schema=False,
    media_type=MediaType.HTML,
    response_headers=page_headers(BOARD_PAGE_CSP),
)
async def board_page(board_id: FromPath[str]) -> Response[bytes]:
    """The page reads the board id from its own URL and talks to the public API."""
    return Response(_PAGE, media_type=MediaType.HTML)


@get(
    "/leagues/{league_id:str}",
    include_in_schema=False,
    media_type=MediaType.HTML,
    response_headers=page_headers(BOARD_PAGE_CSP),
)
async def league_page(league_id: FromPath[str]) -> Response[bytes]:
    """One cohort of the league's current season, live (the page reads the id from its URL)."""
    return Response(_LEAGUE_PAGE, media_type=MediaType.HTML)
