"""The cohort index: one sorted set per open cohort, the one way into it for the leagues.

The same encoding and tie rule as a board's index (docs/ranking.md): the score is the
stored score (negated on ``desc`` leagues, so rank 1 is the lowest Redis score), the
member ``<reached seq, 16 hex>:<player id>``, so among equal scores whoever reached it
first ranks higher, and an older change never overwrites a newer one. Every key of a
league carries the league's hash tag (lib/keys.py): a cohort's keys, the league's event
stream and its channel share one slot, so one script does a change and its events, also
on a Redis Cluster.

A cohort is small (at most 1,000 members): an index found missing is filled from
Postgres in one script call (cohort_fill.lua), by whichever request finds it so; requests
of one worker that miss the same cohort at once share one fill.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from leaderboard.events.topics import STREAM_TTL_MS
from leaderboard.leagues.models import League, Zone
from leaderboard.leagues.repository import LeagueRepository
from leaderboard.leagues.zones import cohort_id
from leaderboard.lib.errors import NotFoundError
from leaderboard.lib.keys import CohortKeys, Keys
from leaderboard.lib.redis_client import unlink_matching
from leaderboard.lib.scripts import LuaScript, ScriptPipeline

# A removed player's members-hash value: greater than every sequence (as on boards).
TOMBSTONE = "ffffffffffffffff"
# A cohort's keys outlive their season's scheduled end by a week (the close deletes them).
KEPT_AFTER_SEASON_MS = 7 * 86_400_000
# A season's "announced" markers: long enough for any close to finish.
ANNOUNCED_TTL_MS = 7 * 86_400_000


def _script(name: str) -> LuaScript:
    return LuaScript.load(
        __package__,
        name,
        prelude=["leaderboard.events:emit.lua", "leaderboard.lib:index_torn.lua"],
        constants={"TOMBSTONE": TOMBSTONE},
    )


APPLY = _script("cohort_apply.lua")
READ = _script("cohort_read.lua")
FILL = _script("cohort_fill.lua")
REMOVE = _script("cohort_remove.lua")
ANNOUNCE = _script("season_announce.lua")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Cohort:
    """Which cohort: a league's, of one season, tier and number."""

    league: League
    season: int
    tier: int
    number: int

    @property
    def id(self) -> str:
        return cohort_id(self.season, self.tier, self.number)


@dataclass(frozen=True, slots=True)
class CohortChange:
    """What applying a committed score did in the cohort."""

    written: bool
    previous_rank: int | None
    rank: int
    members: int
    zone: Zone
    previous_zone: Zone | None


@dataclass(frozen=True, slots=True)
class EventSettings:
    stream_length: int = 1000
    sharded_pubsub: bool = False


class CohortIndex:
    """One per worker, shared by every league."""

    def __init__(
        self,
        pipeline: ScriptPipeline,
        keys: Keys,
        repository: LeagueRepository,
        events: EventSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self._keys = keys
        self._repository = repository
        self._events = events
        self._clock = clock
        self._redis = pipeline.redis
        self._apply = pipeline.bind(APPLY)
        self._read = pipeline.bind(READ)
        self._fill = pipeline.bind(FILL)
        self._remove = pipeline.bind(REMOVE)
        self._announce = pipeline.bind(ANNOUNCE)
        self._filling: dict[str, asyncio.Future[None]] = {}
        self.fills = 0
        """Cohort indexes this worker filled from Postgres (tests, metrics)."""

    def keys(self, cohort: Cohort) -> CohortKeys:
        return self._keys.cohort(cohort.league.id, cohort.season, cohort.id)

    # -- changes -------------------------------------------------------------------------

    async def apply(
        self, cohort: Cohort, player_id: str, score: int, reached_seq: int, *, joined: bool = False
    ) -> CohortChange:
        """Put a committed (score, sequence) in the cohort, announcing the zones it changes.

        ``joined``: the player was placed in the cohort by this change; should the cohort's
        index have to be filled from Postgres first (a new cohort's first member fills it),
        the fill holds the change already, and the player's arrival is announced then.
        """
        league = cohort.league
        keys = self.keys(cohort)
        promote, demote = league.zone_places(cohort.tier)
        head = msgspec.json.encode(
            {
                "type": "zone_changed",
                "league": league.id,
                "season": cohort.season,
                "cohort": cohort.id,
            }
        ).decode()[:-1]
        tail = msgspec.json.encode({"at": self._clock()}).decode()[1:-1]
        args: list[str | int] = [
            player_id,
            -score if league.order == "desc" else score,
            f"{reached_seq:016x}",
            self._ttl_ms(league),
            promote,
            demote,
            self._keys.league_events_channel(league.id),
            head,
            tail,
            self._events.stream_length,
            STREAM_TTL_MS,
            "SPUBLISH" if self._events.sharded_pubsub else "PUBLISH",
        ]
        stream = self._keys.league_events_stream(league.id)
        run = [keys.scores, keys.members, keys.ready, stream]
        reply: Any = await self._apply(run, [*args, 0])
        if int(reply[0]) == -1:
            await self._ensure_filled(cohort)
            reply = await self._apply(run, [*args, int(joined)])
        status = int(reply[0])
        if status == -2:
            raise NotFoundError(f"no player with id {player_id!r} (deleted)")
        previous_rank = int(reply[1]) or None
        previous_zone: Any = reply[5] or None
        return CohortChange(
            written=status == 1,
            previous_rank=previous_rank,
            rank=int(reply[2]),
            members=int(reply[3]),
            zone=reply[4],
            previous_zone=previous_zone,
        )

    async def remove(self, cohort: Cohort, player_id: str) -> bool:
        """Take a deleted player out of the cohort (a late write of theirs is refused)."""
        keys = self.keys(cohort)
        return bool(await self._remove([keys.scores, keys.members, keys.ready], [player_id]))

    # -- reads ---------------------------------------------------------------------------

    async def entries(self, cohort: Cohort) -> list[tuple[str, int]]:
        """(player id, score) of every member, best first."""
        keys = self.keys(cohort)
        run = [keys.scores, keys.members, keys.ready]
        reply = await self._until_ready(cohort, lambda: self._read(run, [""]))
        sign = -1 if cohort.league.order == "desc" else 1
        flat = reply[2:]
        return [(str(flat[i])[17:], sign * int(float(flat[i + 1]))) for i in range(0, len(flat), 2)]

    async def standing(self, cohort: Cohort, player_id: str) -> tuple[int, int, int] | None:
        """(rank, score, members) of the player in the cohort; None without an entry."""
        keys = self.keys(cohort)
        run = [keys.scores, keys.members, keys.ready]
        reply = await self._until_ready(cohort, lambda: self._read(run, [player_id]))
        members, rank = int(reply[1]), int(reply[2])
        if rank == 0:
            return None
        score = int(float(reply[3]))
        return rank, -score if cohort.league.order == "desc" else score, members

    # -- upkeep --------------------------------------------------------------------------

    async def announce(self, league_id: str, season: int, batch: int, events: list[str]) -> int:
        """Publish a batch of ``season_ended`` events once (0: it went out before)."""
        marker = self._keys.season_announced(league_id, season, batch)
        published = await self._announce(
            [marker, self._keys.league_events_stream(league_id)],
            [
                ANNOUNCED_TTL_MS,
                self._events.stream_length,
                STREAM_TTL_MS,
                "SPUBLISH" if self._events.sharded_pubsub else "PUBLISH",
                self._keys.league_events_channel(league_id),
                *events,
            ],
        )
        return int(published)

    async def forget_cohorts(self, league_id: str, season: int, cohorts: list[str]) -> None:
        """Unlink the indexes of a closed season's cohorts (their results are in Postgres)."""
        for start in range(0, len(cohorts), 200):
            keys = []
            for cohort in cohorts[start : start + 200]:
                index = self._keys.cohort(league_id, season, cohort)
                keys += [index.scores, index.members, index.ready]
            await self._redis.unlink(*keys)

    async def forget_league(self, league_id: str) -> None:
        """Unlink every key of a league (deleted, or created anew over leftovers)."""
        await unlink_matching(self._redis, self._keys.league_pattern(league_id))

    async def _until_ready(self, cohort: Cohort, run: Callable[[], Awaitable[T]]) -> T:
        reply: Any = await run()
        if int(reply[0]) != -1:
            return reply  # type: ignore[no-any-return]
        await self._ensure_filled(cohort)
        return await run()

    async def _ensure_filled(self, cohort: Cohort) -> None:
        """Fill the cohort's index from Postgres; one fill per cohort per worker at a time."""
        keys = self.keys(cohort)
        pending = self._filling.get(keys.ready)
        if pending is not None:
            await asyncio.shield(pending)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._filling[keys.ready] = future
        try:
            rows = await self._repository.cohort_members(
                cohort.league.id, cohort.season, cohort.tier, cohort.number
            )
            if not rows:  # no such cohort (yet): nothing to keep in Redis for it
                raise NotFoundError(f"no cohort {cohort.id!r} in league {cohort.league.id!r}")
            sign = -1 if cohort.league.order == "desc" else 1
            args: list[str | int] = [self._ttl_ms(cohort.league)]
            for row in rows:
                args += [sign * row["score"], f"{row['reached_seq']:016x}", row["player_id"]]
            self.fills += int(await self._fill([keys.scores, keys.members, keys.ready], args))
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        else:
            future.set_result(None)
        finally:
            del self._filling[keys.ready]

    def _ttl_ms(self, league: League) -> int:
        left = league.season_ends_at - self._clock()
        return max(int(left.total_seconds() * 1000), 0) + KEPT_AFTER_SEASON_MS
