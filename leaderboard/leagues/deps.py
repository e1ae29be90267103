"""The leagues feature's dependencies, provided by the app's infrastructure plugin."""

from __future__ import annotations

from litestar.di import NamedDependency

from leaderboard.leagues.play import LeaguePlay
from leaderboard.leagues.seasons import SeasonCloser
from leaderboard.leagues.service import LeagueService
from leaderboard.leagues.streams import LeagueEvents

LeaguesDep = NamedDependency[LeagueService]
LeaguePlayDep = NamedDependency[LeaguePlay]
SeasonsDep = NamedDependency[SeasonCloser]
LeagueEventsDep = NamedDependency[LeagueEvents]
