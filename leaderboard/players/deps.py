"""The players feature's dependencies, provided by the app's infrastructure plugin."""

from __future__ import annotations

from litestar.di import NamedDependency

from leaderboard.players.device import DeviceSignIn
from leaderboard.players.service import PlayerService

PlayersDep = NamedDependency[PlayerService]
DeviceSignInDep = NamedDependency[DeviceSignIn]
