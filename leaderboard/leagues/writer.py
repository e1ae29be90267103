"""Commit league submissions to Postgres, many concurrent ones per statement.

Each batch calls ``league_submit`` (db/migrations/0010_leagues.sql) once per league: one
round trip and one commit place first-time players in cohorts of their tier, apply the
operator to everyone's score and audit the admin's and server keys' submissions. The
function holds the rules that must be exact across workers (placement under the tiers'
row locks; nothing written into a season that is closing); this module batches, and
turns each submission's status into its outcome.

A statement that fails as a whole (an unexpected error) is retried one submission per
statement, so only the bad one fails; one whose connection broke after it was sent may
have committed: :class:`~leaderboard.lib.errors.OutcomeUnknownError` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from leaderboard.leagues.models import League
from leaderboard.lib.batching import GROUP_COMMIT_OVERLAP_SECONDS, Batcher
from leaderboard.lib.db import Database
from leaderboard.lib.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TryLaterError,
)

MAX_BATCH = 256
MAX_IN_FLIGHT = 3
# How long a refused submission waits before trying again while a season closes.
CLOSING_RETRY_SECONDS = 2

_SUBMIT = "SELECT * FROM league_submit($1, $2, $3::uuid[], $4::bigint[], $5::text[], $6::text[])"


@dataclass(frozen=True, slots=True)
class LeagueSubmit:
    league: League
    player_id: str
    score: int
    now: datetime
    """The service's clock: a season past its end takes nothing more."""
    actor: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Placed:
    """A committed league submission: where the player stands in Postgres now."""

    season: int
    season_ends_at: datetime
    tier: int
    cohort: int
    score: int
    reached_seq: int
    previous_score: int | None
    """None for the player's first submission of the season (they were placed by it)."""

    @property
    def joined(self) -> bool:
        """The player was placed in their cohort by this submission."""
        return self.previous_score is None


class SeasonClosedError(TryLaterError):
    """The season is past its end or being closed: no submission counts until the next."""

    def __init__(self, season: int) -> None:
        super().__init__(
            f"season {season} has ended and is being closed; the next season opens in a moment",
            CLOSING_RETRY_SECONDS,
        )
        self.season = season


class LeagueWriter:
    """One per worker; ``await writer.commit(...)`` returns once the submission committed."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.batcher: Batcher[LeagueSubmit, Placed] = Batcher(
            self._run_batch,
            name="league_submits",
            max_batch=MAX_BATCH,
            max_in_flight=MAX_IN_FLIGHT,
            overlap_after=GROUP_COMMIT_OVERLAP_SECONDS,
        )

    async def commit(self, submission: LeagueSubmit) -> Placed:
        return await self.batcher(submission)

    async def commit_together(self, submissions: list[LeagueSubmit]) -> list[Placed | Exception]:
        """Commit these as one batch (what concurrent ``commit`` calls share), for tests."""
        return await self._run_batch(submissions)

    async def _run_batch(self, batch: list[LeagueSubmit]) -> list[Placed | Exception]:
        outcomes: list[Placed | Exception | None] = [None] * len(batch)
        by_league: dict[str, list[int]] = {}
        for i, submission in enumerate(batch):
            by_league.setdefault(submission.league.id, []).append(i)
        for indexes in by_league.values():
            await self._submit([(i, batch[i]) for i in indexes], outcomes)
        return [RuntimeError("not run") if o is None else o for o in outcomes]

    async def _submit(
        self, group: list[tuple[int, LeagueSubmit]], outcomes: list[Placed | Exception | None]
    ) -> None:
        """One statement for one league's submissions; sets each outcome, never raises."""
        first = group[0][1]
        try:
            rows = await self._db.commit_batch(
                _SUBMIT,
                first.league.id,
                max(s.now for _, s in group),
                [s.player_id for _, s in group],
                [s.score for _, s in group],
                [s.actor for _, s in group],
                [s.request_id for _, s in group],
            )
        except asyncpg.PostgresError as exc:
            if len(group) > 1:
                for entry in group:  # find the bad one: each on its own
                    await self._submit([entry], outcomes)
                return
            outcomes[group[0][0]] = _domain_error(exc, first)
            return
        except Exception as exc:  # not committed; or OutcomeUnknownError: maybe committed
            for i, _ in group:
                outcomes[i] = exc
            return
        for row in rows:
            i, submission = group[row["o_n"] - 1]
            outcomes[i] = _outcome(row, submission)


def _domain_error(exc: asyncpg.PostgresError, submission: LeagueSubmit) -> Exception:
    """What a submission's own failure means (the checks in league_submit came first)."""
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        # The player (or the league) was deleted between the function's check and its write.
        return NotFoundError(f"no player with id {submission.player_id!r}")
    if isinstance(exc, asyncpg.DeadlockDetectedError | asyncpg.SerializationError):
        return TryLaterError("the submission met a concurrent change; send it again", 1)
    return exc


def _outcome(row: asyncpg.Record, submission: LeagueSubmit) -> Placed | Exception:
    status = row["o_status"]
    if status == "ok":
        return Placed(
            season=row["o_season"],
            season_ends_at=row["o_ends_at"],
            tier=row["o_tier"],
            cohort=row["o_cohort"],
            score=row["o_score"],
            reached_seq=row["o_seq"],
            previous_score=row["o_previous"],
        )
    if status == "closed":
        return SeasonClosedError(row["o_season"])
    if status == "banned":
        return PermissionDeniedError(f"player {submission.player_id!r} is banned")
    if status == "no_player":
        return NotFoundError(f"no player with id {submission.player_id!r}")
    if status == "no_league":
        return NotFoundError(f"no league {submission.league.id!r}")
    if status == "range":
        return InvalidInputError("score", "the sum would leave the range |score| ≤ 2^53 - 1")
    return RuntimeError(f"league_submit answered {status!r}")
