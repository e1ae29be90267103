"""The ranking feature's dependencies, provided by the app's infrastructure plugin."""

from __future__ import annotations

from litestar.di import NamedDependency

from leaderboard.ranking.history import PlayerHistory
from leaderboard.ranking.service import RankingService

RankingsDep = NamedDependency[RankingService]
HistoriesDep = NamedDependency[PlayerHistory]
