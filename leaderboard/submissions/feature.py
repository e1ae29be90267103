"""The submissions feature: the ledger's reads, the review queue's decisions, voids."""

from __future__ import annotations

from leaderboard.audit.repository import AuditLog
from leaderboard.boards.service import BoardService
from leaderboard.lib.features import Feature, Provided, Services
from leaderboard.ranking.index import RankIndex
from leaderboard.scores.repository import ScoreRepository
from leaderboard.scores.writer import ScoreWriter
from leaderboard.submissions.controller import LedgerController, SubmissionsController
from leaderboard.submissions.repository import LedgerRepository
from leaderboard.submissions.service import SubmissionService


def build(services: Services) -> None:
    infra = services.infra
    services.add(
        SubmissionService(
            db=infra.db,
            boards=services.get(BoardService),
            ledger=LedgerRepository(infra.db),
            scores=services.get(ScoreRepository),
            # Approvals run the score statement in their own transaction, unbatched.
            writer=ScoreWriter(infra.db),
            index=services.get(RankIndex),
            audit=services.get(AuditLog),
            clock=infra.clock,
        )
    )


FEATURE = Feature(
    name="submissions",
    handlers=[LedgerController, SubmissionsController],
    build=build,
    provides=[Provided("submissions", SubmissionService)],
)
