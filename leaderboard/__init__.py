"""Game leaderboard and player-profile service."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("leaderboard")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0"
