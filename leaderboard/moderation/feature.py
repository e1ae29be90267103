"""The moderation feature: remove one entry, ban and unban players."""

from __future__ import annotations

from leaderboard.audit.repository import AuditLog
from leaderboard.auth.sessions import SessionStore
from leaderboard.boards.service import BoardService
from leaderboard.lib.features import Feature, Provided, Services
from leaderboard.moderation.controller import ModerationController, remove_entry
from leaderboard.moderation.service import ModerationService
from leaderboard.players.service import PlayerService
from leaderboard.ranking.index import RankIndex
from leaderboard.scores.repository import ScoreRepository


def build(services: Services) -> None:
    services.add(
        ModerationService(
            db=services.infra.db,
            boards=services.get(BoardService),
            scores=services.get(ScoreRepository),
            index=services.get(RankIndex),
            players=services.get(PlayerService),
            sessions=services.get(SessionStore),
            audit=services.get(AuditLog),
            clock=services.infra.clock,
        )
    )


FEATURE = Feature(
    name="moderation",
    # remove_entry shares a path with the ranked reads: it must come after them (see it).
    handlers=[ModerationController, remove_entry],
    build=build,
    provides=[Provided("moderation", ModerationService)],
)
