"""The leagues feature: seasons, cohorts of a tier, promotion and demotion."""

from __future__ import annotations

from leaderboard.audit.repository import AuditLog
from leaderboard.auth.sessions import SessionStore
from leaderboard.events.hub import EventHub
from leaderboard.leagues.admission import LeagueAdmission
from leaderboard.leagues.cohorts import CohortIndex, EventSettings
from leaderboard.leagues.controller import LeaguesController
from leaderboard.leagues.events_controller import LeagueEventsController
from leaderboard.leagues.play import LeaguePlay
from leaderboard.leagues.play_controller import LeaguePlayController
from leaderboard.leagues.repository import LeagueRepository
from leaderboard.leagues.season_repository import SeasonRepository
from leaderboard.leagues.seasons import SeasonCloser
from leaderboard.leagues.service import LeagueService
from leaderboard.leagues.streams import LeagueEvents
from leaderboard.leagues.writer import LeagueWriter
from leaderboard.lib.features import Feature, Provided, Services
from leaderboard.lib.invalidation import Invalidations
from leaderboard.players.service import PlayerService
from leaderboard.ratelimit import RateLimiter


def build(services: Services) -> None:
    infra = services.infra
    repository = LeagueRepository(infra.db)
    audit = services.get(AuditLog)
    leagues = services.add(
        LeagueService(infra.db, repository, audit, infra.clock, services.get(Invalidations))
    )
    index = CohortIndex(
        infra.pipeline,
        infra.keys,
        repository,
        EventSettings(
            stream_length=infra.settings.events_stream_length,
            sharded_pubsub=infra.settings.redis_cluster,
        ),
        infra.clock,
    )
    leagues.forget_keys.append(index.forget_league)
    closer = services.add(
        SeasonCloser(
            db=infra.db,
            leagues=leagues,
            seasons=services.add(SeasonRepository(infra.db, audit)),
            index=index,
            clock=infra.clock,
            interval_seconds=infra.settings.league_check_seconds,
        )
    )
    play = services.add(
        LeaguePlay(
            leagues=leagues,
            repository=repository,
            writer=LeagueWriter(infra.db),
            index=index,
            admission=LeagueAdmission(
                infra.pipeline, services.get(RateLimiter), services.get(SessionStore)
            ),
            players=services.get(PlayerService),
            clock=infra.clock,
            season_over=closer.wake,
        )
    )
    # A deleted player leaves every cohort (found in the deleting transaction).
    services.get(PlayerService).before_delete.append(play.remove_player)
    services.add(LeagueEvents(services.get(EventHub), leagues, infra.keys))


FEATURE = Feature(
    name="leagues",
    handlers=[LeaguesController, LeaguePlayController, LeagueEventsController],
    build=build,
    provides=[
        Provided("leagues", LeagueService),
        Provided("league_play", LeaguePlay),
        Provided("seasons", SeasonCloser),
        Provided("league_events", LeagueEvents),
    ],
)
