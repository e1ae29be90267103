"""The pages' own files (``static/``), served under ``/static`` by a static files router."""

from __future__ import annotations

from pathlib import Path

from litestar.router import Router
from litestar.static_files import create_static_files_router

STATIC_PATH = "/static"
STATIC_DIR = Path(__file__).parent / "static"


def static_files_router() -> Router:
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR],
        include_in_schema=False,
        # No Cache-Control: Litestar sends Last-Modified and ETag, so browsers revalidate
        # board.js after an upgrade; the vendored UIs have their version in their path.
    )
