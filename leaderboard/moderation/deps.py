"""The moderation feature's dependencies, provided by the app's infrastructure plugin."""

from __future__ import annotations

from litestar.di import NamedDependency

from leaderboard.moderation.service import ModerationService

ModerationDep = NamedDependency[ModerationService]
