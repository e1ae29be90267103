"""The submissions feature's dependencies, provided by the app's infrastructure plugin."""

from __future__ import annotations

from litestar.di import NamedDependency

from leaderboard.submissions.service import SubmissionService

SubmissionsDep = NamedDependency[SubmissionService]
