"""``/v1/players``: create (admin), read, change and delete profiles."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from leaderboard.auth.guards import admin_only, player_only, self_or_admin
from leaderboard.auth.principal import Principal
from leaderboard.players.deps import PlayersDep
from leaderboard.players.models import PlayerCreate, Profile, ProfilePatch


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
    )
    async def create_player(
        self, data: JSONBody[PlayerCreate], players: PlayersDep
    ) -> Response[Profile]:
        profile = await players.create(data)
        return Response(
            profile, status_code=201, headers={"Location": f"/v1/players/{profile.player_id}"}
        )

    @get("/me", summary="The calling player's profile", guards=[player_only])
    async def me(self, request: Request[Any, Principal, Any], players: PlayersDep) -> Profile:
        return await players.get(request.auth.require_player())

    @get("/{player_id:str}", summary="A player's profile (404 when unknown)")
    async def get_profile(self, player_id: FromPath[str], players: PlayersDep) -> Profile:
        return await players.get(player_id)

    @patch(
        "/{player_id:str}",
        summary="Change a profile (that player, or the admin)",
        description="Any of display_name, avatar_url, country, metadata; null clears the "
        "optional ones. The next read anywhere shows the change.",
        guards=[self_or_admin],
    )
    async def update_profile(
        self, player_id: FromPath[str], data: JSONBody[ProfilePatch], players: PlayersDep
    ) -> Profile:
        return await players.update(player_id, data)

    @delete(
        "/{player_id:str}",
        status_code=204,
        summary="Delete a player: profile, cache and sessions (that player, or the admin)",
        guards=[self_or_admin],
    )
    async def delete_player(self, player_id: FromPath[str], players: PlayersDep) -> None:
        await players.delete(player_id)
