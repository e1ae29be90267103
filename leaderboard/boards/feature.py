"""The boards feature: each leaderboard's configuration."""

from __future__ import annotations

from leaderboard.audit.repository import AuditLog
from leaderboard.boards.controller import BoardsController
from leaderboard.boards.repository import BoardRepository
from leaderboard.boards.service import BoardService
from leaderboard.lib.features import Feature, Provided, Services
from leaderboard.lib.invalidation import Invalidations


def build(services: Services) -> None:
    infra = services.infra
    repository = services.add(BoardRepository(infra.db))
    services.add(
        BoardService(
            infra.db,
            repository,
            infra.redis,
            infra.keys,
            services.get(AuditLog),
            infra.clock,
            services.get(Invalidations),
        )
    )


FEATURE = Feature(
    name="boards",
    handlers=[BoardsController],
    build=build,
    provides=[Provided("boards", BoardService)],
)
