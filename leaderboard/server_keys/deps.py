"""The server keys feature's dependencies, provided by the app's infrastructure plugin."""

from __future__ import annotations

from litestar.di import NamedDependency

from leaderboard.server_keys.store import ServerKeyStore

ServerKeysDep = NamedDependency[ServerKeyStore]
