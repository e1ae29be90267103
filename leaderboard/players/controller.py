"""``/v1/players``: create (admin), read, change and delete profiles."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from leaderboard.auth.guards import admin_only, player_only, self_or_admin
from leaderboard.auth.principal import Principal
from leaderboard.lib.openapi import BEARER, ApiOperation, errors
from leaderboard.players.deps import PlayersDep
from leaderboard.players.models import PlayerCreate, Profile, ProfilePatch

# What the profile fields' schemas cannot say (the service checks it: a 400 naming it).
_PROFILE_400 = (
    "Also a display name holding control or format characters (or blank), an avatar_url "
    "that is not http(s), a country that is not an ISO 3166-1 alpha-2 code, or metadata "
    "over 4 KiB of JSON or holding NUL characters."
)


class PlayersController(Controller):
    path = "/v1/players"
    tags = ["players"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post(
        "/",
        status_code=201,
        summary="Create a player (admin)",
        description=(
            "For game servers and tools that create players themselves, without the "
            "per-address throttle of device sign-in. Every field is optional. With "
            "device_id, a later POST /v1/auth/device with that id signs in as this player "
            "(409 when a player has that device already); without, only the admin token "
            "acts for the player (for example submitting scores with player_id)."
        ),
        guards=[admin_only],
        operation_id="createPlayer",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(
            400,
            401,
            403,
            409,
            413,
            503,
            notes={400: _PROFILE_400, 409: "A player has this device_id already."},
        ),
    )
    async def create_player(
        self,
        request: Request[Any, Principal, Any],
        data: JSONBody[PlayerCreate],
        players: PlayersDep,
    ) -> Response[Profile]:
        profile = await players.create(data, request.auth.actor)
        return Response(
            profile, status_code=201, headers={"Location": f"/v1/players/{profile.player_id}"}
        )

    @get(
        "/me",
        summary="The calling player's profile",
        guards=[player_only],
        operation_id="getMe",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(
            401,
            403,
            404,
            503,
            notes={403: "Not a player's session.", 404: "The player was deleted meanwhile."},
        ),
    )
    async def me(self, request: Request[Any, Principal, Any], players: PlayersDep) -> Profile:
        return await players.get(request.auth.require_player())

    @get(
        "/{player_id:str}",
        summary="A player's profile (404 when unknown)",
        operation_id="getProfile",
        operation_class=ApiOperation,
        responses=errors(404, 503),
    )
    async def get_profile(self, player_id: FromPath[str], players: PlayersDep) -> Profile:
        return await players.get(player_id)

    @patch(
        "/{player_id:str}",
        summary="Change a profile (that player, or the admin)",
        description="Any of display_name, avatar_url, country, metadata; null clears the "
        "optional ones. The next read anywhere shows the change.",
        guards=[self_or_admin],
        operation_id="updateProfile",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(
            400,
            401,
            403,
            404,
            413,
            503,
            notes={
                400: f"{_PROFILE_400} And a body that changes nothing (`{{}}`).",
                403: "Another player's profile.",
            },
        ),
    )
    async def update_profile(
        self,
        request: Request[Any, Principal, Any],
        player_id: FromPath[str],
        data: JSONBody[ProfilePatch],
        players: PlayersDep,
    ) -> Profile:
        return await players.update(player_id, data, request.auth.actor)

    @delete(
        "/{player_id:str}",
        status_code=204,
        summary="Delete a player: profile, cache and sessions (that player, or the admin)",
        guards=[self_or_admin],
        operation_id="deletePlayer",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(401, 403, 404, 503, notes={403: "Another player."}),
    )
    async def delete_player(
        self, request: Request[Any, Principal, Any], player_id: FromPath[str], players: PlayersDep
    ) -> None:
        await players.delete(player_id, request.auth.actor)
