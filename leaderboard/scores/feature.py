"""The scores feature: the write path, and the retention of old periods."""

from __future__ import annotations

from leaderboard.auth.sessions import SessionStore
from leaderboard.boards.service import BoardService
from leaderboard.lib.features import Feature, Provided, Services
from leaderboard.players.service import PlayerService
from leaderboard.ranking.index import RankIndex
from leaderboard.ratelimit import RateLimiter
from leaderboard.scores.admission import Admission
from leaderboard.scores.controller import ScoresController
from leaderboard.scores.idempotency import IdempotencyStore
from leaderboard.scores.repository import ScoreRepository
from leaderboard.scores.retention import RetentionJob
from leaderboard.scores.review import ReviewRules
from leaderboard.scores.service import ScoreService
from leaderboard.scores.writer import ScoreWriter


def build(services: Services) -> None:
    infra = services.infra
    boards, index = services.get(BoardService), services.get(RankIndex)
    repository = services.add(ScoreRepository(infra.db))
    idempotency = IdempotencyStore(infra.db, infra.pipeline, infra.keys)
    scores = services.add(
        ScoreService(
            boards=boards,
            # Concurrent submissions share statements and commits (writer.py).
            writer=ScoreWriter(infra.db),
            scores=repository,
            index=index,
            admission=Admission(
                infra.pipeline, services.get(RateLimiter), idempotency, services.get(SessionStore)
            ),
            idempotency=idempotency,
            review=ReviewRules(index),
            clock=infra.clock,
        )
    )
    # A deleted player leaves every board (found in the deleting transaction).
    services.get(PlayerService).before_delete.append(scores.remove_player)
    services.add(
        RetentionJob(
            db=infra.db,
            boards=boards,
            index=index,
            scores=repository,
            clock=infra.clock,
            interval_seconds=infra.settings.retention_check_seconds,
        )
    )


FEATURE = Feature(
    name="scores",
    handlers=[ScoresController],
    build=build,
    provides=[Provided("scores", ScoreService)],
)
