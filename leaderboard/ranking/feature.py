"""The ranking feature: the Redis index (one façade), the ranked reads, the index guard."""

from __future__ import annotations

from leaderboard.boards.repository import BoardRepository
from leaderboard.boards.service import BoardService
from leaderboard.lib.features import Feature, Provided, Services
from leaderboard.players.service import PlayerService
from leaderboard.ranking.controller import RankingController
from leaderboard.ranking.countries import CountryMoves
from leaderboard.ranking.digests import ScoreDigests
from leaderboard.ranking.guard import IndexGuard
from leaderboard.ranking.history import PlayerHistory
from leaderboard.ranking.index import EventSettings, RankIndex
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.page_cache import TopPageCache
from leaderboard.ranking.rebuild import Rebuilder
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.results import PeriodResults
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ranking.service import RankingService


def build(services: Services) -> None:
    infra, settings = services.infra, services.infra.settings
    boards, players = services.get(BoardService), services.get(PlayerService)
    # Rebuilds may read a replica (fenced: never staler than the primary).
    records = ScoreRecords(infra.db, infra.replica)
    locator = IndexLocator(infra.keys, infra.clock)
    scripts = IndexScripts(infra.pipeline)
    rebuilder = Rebuilder(infra.redis, scripts, services.get(BoardRepository), records, locator)
    index = services.add(
        RankIndex(
            redis=infra.redis,
            scripts=scripts,
            records=records,
            rebuilder=rebuilder,
            locator=locator,
            keys=infra.keys,
            top_pages=TopPageCache(settings.top_page_cache_ms / 1000),
            events=EventSettings(
                stream_length=settings.events_stream_length,
                sharded_pubsub=settings.redis_cluster,
            ),
            clock=infra.clock,
            results=PeriodResults(infra.db, infra.clock),
        )
    )
    boards.forget_index.append(index.forget_board)
    # A new profile country moves the player's entries between country indexes.
    moves = CountryMoves(
        db=infra.db,
        index=index,
        scripts=scripts,
        locator=locator,
        records=records,
        board_of=boards.get,
    )
    players.country_changed.append(moves.move)
    # Top pages show display names: a renamed or deleted player drops them all.
    players.after_change.append(lambda _player_id: index.forget_names())
    services.add(
        RankingService(
            boards=boards, index=index, records=records, players=players, clock=infra.clock
        )
    )
    services.add(PlayerHistory(boards=boards, index=index, results=index.results))
    services.add(
        IndexGuard(
            boards=boards,
            records=records,
            digests=ScoreDigests(infra.db),
            index=index,
            clock=infra.clock,
            interval_seconds=settings.index_check_seconds,
            moves=moves,
        )
    )


FEATURE = Feature(
    name="ranking",
    handlers=[RankingController],
    build=build,
    provides=[Provided("rankings", RankingService), Provided("histories", PlayerHistory)],
)
