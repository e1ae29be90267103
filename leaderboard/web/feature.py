"""The live page and the static files (the API docs pages are the app's OpenAPI router)."""

from __future__ import annotations

from leaderboard.lib.features import Feature
from leaderboard.web import board_page, static_files_router

FEATURE = Feature(name="web", handlers=[board_page, static_files_router()])
