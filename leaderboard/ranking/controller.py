"""``/v1/leaderboards/{id}/…``: the ranked reads (removing one entry: moderation)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter

from leaderboard.lib.errors import InvalidInputError
from leaderboard.lib.ids import canonical_player_id
from leaderboard.lib.negotiation import negotiated
from leaderboard.lib.openapi import ApiOperation, errors
from leaderboard.ranking.deps import HistoriesDep, RankingsDep
from leaderboard.ranking.models import HistogramPage, History, Page, PlayerEntry

PeriodQuery = Annotated[
    str | None,
    QueryParameter(
        description="current (default), previous, or any date YYYY-MM-DD inside the period "
        "(400 for another value, for previous or a date on a board that never resets, and "
        "for a period that has not started)",
        max_length=16,
        # In the schema only: the service parses it and answers a 400 naming `period`.
        schema_extra={
            "pattern": "^(current|previous|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))?$"
        },
    ),
]
RanksQuery = Annotated[
    str | None,
    QueryParameter(
        description="How tied scores are numbered: ordinal (1, 2, 3, 4), competition "
        "(1, 2, 2, 4) or dense (1, 2, 2, 3); default the board's `ranks` (400 for another "
        "value). The order of the entries is the same under all three.",
        max_length=16,
        # In the schema only: the service answers a 400 naming `ranks`.
        schema_extra={"enum": ["ordinal", "competition", "dense"]},
    ),
]
CountryQuery = Annotated[
    str | None,
    QueryParameter(
        description="Boards with the `country` segment: the players of that country only "
        "(ISO 3166-1 alpha-2), ranked, counted and placed among themselves. 400 on a board "
        "without the segment, or for another value.",
        max_length=8,
        # In the schema only: the service answers a 400 naming `country`.
        schema_extra={"pattern": "^[A-Za-z]{2}$"},
    ),
]
# The 400 and 404 of every ranked read.
_READ_NOTES = {
    400: "A bad query parameter, or a `period` the board does not have.",
    404: "No such leaderboard.",
}
PLAYER_NOTES = {**_READ_NOTES, 404: "No such leaderboard, or the player has no entry on it."}
MAX_LISTED = 100
MAX_NAMED = 50
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def listed_ids(ids: str) -> list[str]:
    """``?ids=a,b,…``: 1 to 100 player ids, each a UUID (400 naming ``ids`` otherwise)."""
    parts = [part.strip() for part in ids.split(",") if part.strip()]
    if not parts:
        raise InvalidInputError("ids", "list 1 to 100 player ids, separated by commas")
    if len(parts) > MAX_LISTED:
        raise InvalidInputError("ids", f"at most {MAX_LISTED} player ids")
    try:
        return list(dict.fromkeys(canonical_player_id(part) for part in parts))
    except Exception:
        raise InvalidInputError("ids", "every id must be a player id (a UUID)") from None


class RankingController(Controller):
    path = "/v1/leaderboards/{board_id:str}"
    tags = ["leaderboards"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get(
        "/top",
        summary="A page of the ranking, best first",
        operation_id="getTop",
        operation_class=ApiOperation,
        responses=errors(400, 404, 503, notes=_READ_NOTES),
    )
    async def top(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        rankings: RankingsDep,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 10,
        offset: Annotated[int, QueryParameter(ge=0, le=2**31)] = 0,
        period: PeriodQuery = None,
        ranks: RanksQuery = None,
        country: CountryQuery = None,
    ) -> Response[Page]:
        page = await rankings.top(board_id, period, offset, limit, ranks, country)
        return negotiated(request, page)

    @get(
        "/players/{player_id:str}",
        summary="A player's entry; 404 without one",
        operation_id="getEntry",
        operation_class=ApiOperation,
        responses=errors(400, 404, 503, notes=PLAYER_NOTES),
    )
    async def entry(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        player_id: FromPath[str],
        rankings: RankingsDep,
        period: PeriodQuery = None,
        ranks: RanksQuery = None,
        country: CountryQuery = None,
    ) -> Response[PlayerEntry]:
        entry = await rankings.entry(board_id, player_id, period, ranks, country)
        return negotiated(request, entry)

    @get(
        "/players",
        summary="Some players' entries, ranked on the whole board (friends, or a name search)",
        description="`ids`: up to 100 player ids (those without an entry are left out); "
        "or `name`: the players whose display name starts with it (any case), up to `limit`.",
        operation_id="getPlayers",
        operation_class=ApiOperation,
        responses=errors(
            400,
            404,
            503,
            notes={
                **_READ_NOTES,
                400: "Neither or both of `ids` and `name`, an id that is not a UUID, more "
                "than 100 ids, or a bad `period`.",
            },
        ),
    )
    async def players(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        rankings: RankingsDep,
        ids: Annotated[
            str | None,
            QueryParameter(
                max_length=4000,
                description="Up to 100 player ids (UUIDs), separated by commas.",
                # In the schema only: listed_ids() checks them, with a 400 naming `ids`.
                schema_extra={"pattern": f"^{_UUID}(,{_UUID}){{0,{MAX_LISTED - 1}}}$"},
            ),
        ] = None,
        name: Annotated[str | None, QueryParameter(min_length=1, max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_NAMED)] = 10,
        period: PeriodQuery = None,
        ranks: RanksQuery = None,
        country: CountryQuery = None,
    ) -> Response[Page]:
        if (ids is None) == (name is None):
            raise InvalidInputError("ids", "give either ids (a friends list) or name (a search)")
        if ids is not None:
            page = await rankings.players(board_id, listed_ids(ids), period, ranks, country)
        else:
            assert name is not None
            page = await rankings.named(board_id, name, limit, period, ranks, country)
        return negotiated(request, page)

    @get(
        "/histogram",
        summary="How many entries score in each of equal-width ranges (the board's shape)",
        operation_id="getHistogram",
        operation_class=ApiOperation,
        responses=errors(400, 404, 503, notes=_READ_NOTES),
    )
    async def histogram(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        rankings: RankingsDep,
        buckets: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        period: PeriodQuery = None,
        ranks: RanksQuery = None,
        country: CountryQuery = None,
    ) -> Response[HistogramPage]:
        shape = await rankings.histogram(board_id, buckets, period, ranks, country)
        return negotiated(request, shape)

    @get(
        "/players/{player_id:str}/around",
        summary="The player's entry with up to `radius` entries on each side",
        operation_id="getAround",
        operation_class=ApiOperation,
        responses=errors(400, 404, 503, notes=PLAYER_NOTES),
    )
    async def around(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        player_id: FromPath[str],
        rankings: RankingsDep,
        radius: Annotated[int, QueryParameter(ge=0, le=100)] = 5,
        period: PeriodQuery = None,
        ranks: RanksQuery = None,
        country: CountryQuery = None,
    ) -> Response[Page]:
        page = await rankings.around(board_id, player_id, period, radius, ranks, country)
        return negotiated(request, page)

    @get(
        "/players/{player_id:str}/history",
        summary="The player's rank in each period, newest first (final ranks once ended)",
        description="The periods in which the player has an entry (the current one live), "
        "with `best`: the best rank of any period (the newest of equal ones).",
        operation_id="getHistory",
        operation_class=ApiOperation,
        responses=errors(400, 404, 503, notes=_READ_NOTES),
    )
    async def history(
        self,
        request: Request[Any, Any, Any],
        board_id: FromPath[str],
        player_id: FromPath[str],
        histories: HistoriesDep,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
        ranks: RanksQuery = None,
    ) -> Response[History]:
        return negotiated(request, await histories.history(board_id, player_id, limit, ranks))
