"""The boards feature's dependencies, provided by the app's infrastructure plugin."""

from __future__ import annotations

from litestar.di import NamedDependency

from leaderboard.boards.board_service import BoardService
from leaderboard.boards.ranking_service import RankingService
from leaderboard.boards.score_service import ScoreService

BoardsDep = NamedDependency[BoardService]
ScoresDep = NamedDependency[ScoreService]
RankingsDep = NamedDependency[RankingService]
