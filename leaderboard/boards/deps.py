"""The boards feature's dependencies, provided by the app's infrastructure plugin."""

from __future__ import annotations

from litestar.di import NamedDependency

from leaderboard.boards.service import BoardService
from leaderboard.ranking.service import RankingService
from leaderboard.scores.service import ScoreService

BoardsDep = NamedDependency[BoardService]
ScoresDep = NamedDependency[ScoreService]
RankingsDep = NamedDependency[RankingService]
