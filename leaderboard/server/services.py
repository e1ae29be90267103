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
from leaderboard.boards.repository import BoardRepository
from leaderboard.boards.service import BoardService
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
from leaderboard.ranking.guard import IndexGuard
from leaderboard.ranking.index import EventSettings, RankIndex
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.page_cache import TopPageCache
from leaderboard.ranking.rebuild import Rebuilder
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ranking.service import RankingService
from leaderboard.ratelimit import RateLimiter, RateLimitPolicy
from leaderboard.scores.idempotency import IdempotencyStore
from leaderboard.scores.repository import ScoreRepository
from leaderboard.scores.retention import RetentionJob
from leaderboard.scores.service import ScoreService
from leaderboard.scores.writer import ScoreWriter
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
    index: RankIndex
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
        board_repository = BoardRepository(db)
        boards = BoardService(db, board_repository, redis, keys, audit, clock)
        records = ScoreRecords(db, replica)
        locator = IndexLocator(keys, clock)
        scripts = IndexScripts(pipeline)
        index = RankIndex(
            redis=redis,
            scripts=scripts,
            records=records,
            rebuilder=Rebuilder(redis, scripts, board_repository, records, locator),
            locator=locator,
            keys=keys,
            top_pages=TopPageCache(settings.top_page_cache_ms / 1000),
            events=EventSettings(
                stream_length=settings.events_stream_length,
                sharded_pubsub=settings.redis_cluster,
            ),
        )
        boards.forget_index.append(index.forget_board)
        score_repository = ScoreRepository(db)
        scores = ScoreService(
            boards=boards,
            # Concurrent submissions share statements and commits (writer.py).
            writer=ScoreWriter(db),
            scores=score_repository,
            index=index,
            limiter=limiter,
            idempotency=IdempotencyStore(db, pipeline, keys),
            clock=clock,
        )
        guard = IndexGuard(
            boards=boards,
            records=records,
            index=index,
            clock=clock,
            interval_seconds=settings.index_check_seconds,
        )
        rankings = RankingService(
            boards=boards, index=index, records=records, players=players, clock=clock
        )

        # Deleting a player takes them off every leaderboard and ends their sessions, in
        # the deleting transaction (a Redis outage rolls the deletion back).
        async def end_sessions(_: Connection, player_id: str) -> None:
            await sessions.end_all(player_id)

        players.before_delete.extend([scores.remove_player, end_sessions])
        # Top pages show display names: a renamed or deleted player drops them all.
        players.after_change.append(lambda _player_id: index.forget_names())
        server_keys = ServerKeyStore(db, pipeline, keys, audit, boards.get)
        moderation = ModerationService(
            db=db,
            boards=boards,
            scores=score_repository,
            index=index,
            players=players,
            sessions=sessions,
            audit=audit,
            clock=clock,
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
            index=index,
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
                index=index,
                scores=score_repository,
                clock=clock,
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
        await self.index.close()
        await self.replica.close()
