"""The worker's object graph: every service, built once when the app's lifespan opens.

This is the one place that knows how the features fit together (who calls whom on a
player's deletion, which caches a change drops); the features themselves only know
what they are given.
"""

from __future__ import annotations

from dataclasses import dataclass

from leaderboard.audit.repository import AuditLog
from leaderboard.auth.device import DeviceSignIn
from leaderboard.auth.principal import Authenticator
from leaderboard.auth.sessions import SessionStore
from leaderboard.boards.board_repository import BoardRepository
from leaderboard.boards.board_service import BoardService
from leaderboard.boards.idempotency import IdempotencyStore
from leaderboard.boards.index_guard import IndexGuard
from leaderboard.boards.index_locator import IndexLocator
from leaderboard.boards.page_cache import TopPageCache
from leaderboard.boards.rank_index import RankIndex
from leaderboard.boards.ranking_service import RankingService
from leaderboard.boards.rebuild import Rebuilder
from leaderboard.boards.retention import RetentionJob
from leaderboard.boards.score_indexing import ScoreIndexer
from leaderboard.boards.score_repository import ScoreRepository
from leaderboard.boards.score_service import ScoreService
from leaderboard.boards.score_writer import ScoreWriter
from leaderboard.events.hub import EventHub
from leaderboard.health.eviction import EvictionWatch
from leaderboard.lib.clock import Clock, system_clock
from leaderboard.lib.db import Connection, Database
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.replica import ReadReplica
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.lib.settings import Settings
from leaderboard.moderation.service import ModerationService
from leaderboard.players.cache import PlayerCache
from leaderboard.players.repository import PlayerRepository
from leaderboard.players.service import AfterRead, PlayerService
from leaderboard.ratelimit import RateLimiter, RateLimitPolicy
from leaderboard.server_keys.store import ServerKeyStore


@dataclass(frozen=True, slots=True)
class Services:
    sessions: SessionStore
    authenticator: Authenticator
    device_sign_in: DeviceSignIn
    players: PlayerService
    limiter: RateLimiter
    boards: BoardService
    scores: ScoreService
    rankings: RankingService
    rebuilder: Rebuilder
    locator: IndexLocator
    guard: IndexGuard
    moderation: ModerationService
    server_keys: ServerKeyStore
    audit: AuditLog
    eviction: EvictionWatch
    events: EventHub
    replica: ReadReplica
    retention: RetentionJob

    @classmethod
    def build(
        cls,
        db: Database,
        redis: AnyRedis,
        keys: Keys,
        settings: Settings,
        clock: Clock = system_clock,
        *,
        after_player_read: AfterRead | None = None,
    ) -> Services:
        """Build the graph; ``after_player_read`` is a test hook (see PlayerService)."""
        # One pipeline for the scripts of every service: concurrent requests' calls of
        # different kinds (session, limiter, index) leave in the same round trip.
        pipeline = ScriptPipeline(redis)
        sessions = SessionStore(
            pipeline,
            keys,
            ttl_seconds=settings.session_ttl_seconds,
            max_age_seconds=settings.session_max_age_seconds,
        )
        player_cache = PlayerCache(
            redis,
            keys,
            ttl_seconds=settings.profile_cache_ttl_seconds,
            negative_ttl_seconds=settings.profile_negative_ttl_seconds,
            pipeline=pipeline,
        )
        # Profile misses and rebuilds may read a replica (fenced: never staler than the
        # primary; lib/replica.py); without LEADERBOARD_DATABASE_REPLICA_URL, the primary.
        replica = ReadReplica.from_settings(settings, db)
        audit = AuditLog(db)
        players = PlayerService(
            db,
            PlayerRepository(db, replica),
            player_cache,
            audit=audit.record,
            after_read=after_player_read,
        )
        limiter = RateLimiter(pipeline, keys)
        top_pages = TopPageCache(settings.top_page_cache_ms / 1000)
        board_repository = BoardRepository(db)
        score_repository = ScoreRepository(db, replica)
        boards = BoardService(db, board_repository, redis, keys, top_pages, audit, clock)
        index = RankIndex(pipeline)
        locator = IndexLocator(keys, clock)
        rebuilder = Rebuilder(redis, index, board_repository, score_repository, locator)
        indexer = ScoreIndexer(
            index=index,
            rebuilder=rebuilder,
            locator=locator,
            scores=score_repository,
            keys=keys,
            top_pages=top_pages,
            stream_length=settings.events_stream_length,
            sharded_pubsub=settings.redis_cluster,
        )
        scores = ScoreService(
            boards=boards,
            # Concurrent submissions share statements and commits (score_writer.py).
            writer=ScoreWriter(db),
            scores=score_repository,
            index=index,
            indexer=indexer,
            locator=locator,
            limiter=limiter,
            keys=keys,
            top_pages=top_pages,
            idempotency=IdempotencyStore(db, pipeline, keys),
        )
        guard = IndexGuard(
            redis=redis,
            boards=boards,
            scores=score_repository,
            index=index,
            rebuilder=rebuilder,
            locator=locator,
            keys=keys,
            top_pages=top_pages,
            interval_seconds=settings.index_check_seconds,
        )
        rankings = RankingService(
            boards=boards,
            index=index,
            rebuilder=rebuilder,
            locator=locator,
            players=players,
            scores=score_repository,
            top_pages=top_pages,
        )

        # Deleting a player takes them off every leaderboard and ends their sessions, in
        # the deleting transaction (a Redis outage rolls the deletion back).
        async def end_sessions(_: Connection, player_id: str) -> None:
            await sessions.end_all(player_id)

        players.before_delete.extend([scores.remove_player, end_sessions])
        # Top pages show display names: a renamed or deleted player drops them all.
        players.after_change.append(lambda _player_id: top_pages.clear())
        server_keys = ServerKeyStore(db, pipeline, keys, audit, boards.get)
        moderation = ModerationService(
            db=db,
            boards=boards,
            scores=score_repository,
            index=index,
            locator=locator,
            players=players,
            sessions=sessions,
            audit=audit,
            keys=keys,
            top_pages=top_pages,
            stream_length=settings.events_stream_length,
            sharded_pubsub=settings.redis_cluster,
        )
        auth_policy = RateLimitPolicy(
            limit=settings.auth_rate_limit, window_seconds=settings.auth_rate_window_seconds
        )
        return cls(
            sessions=sessions,
            authenticator=Authenticator(sessions, settings.admin_token, server_keys.resolve),
            device_sign_in=DeviceSignIn(players, sessions, limiter, auth_policy),
            players=players,
            limiter=limiter,
            boards=boards,
            scores=scores,
            rankings=rankings,
            rebuilder=rebuilder,
            locator=locator,
            guard=guard,
            moderation=moderation,
            server_keys=server_keys,
            audit=audit,
            eviction=EvictionWatch(redis),
            events=EventHub(settings, keys, redis, boards.get),
            replica=replica,
            retention=RetentionJob(
                db=db,
                boards=boards,
                rebuilder=rebuilder,
                locator=locator,
                redis=redis,
                top_pages=top_pages,
                interval_seconds=settings.retention_check_seconds,
            ),
        )

    def start(self) -> None:
        """Start background work: the index check (index_guard.py), retention (retention.py)."""
        self.guard.start()
        self.retention.start()

    async def close(self) -> None:
        """Stop background work: event subscriptions, the index check, score repairs."""
        await self.events.close()
        await self.guard.close()
        await self.retention.close()
        await self.moderation.close()
        await self.scores.close()
        await self.replica.close()
