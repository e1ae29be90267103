"""``/v1/players``: read, change and delete profiles."""

from __future__ import annotations

from litestar import Controller, delete, get, patch
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from leaderboard.auth.principal import Principal
from leaderboard.players.models import Profile, ProfilePatch
from leaderboard.players.service import canonical_player_id
from leaderboard.plugin import ProfilesDep


class PlayersController(Controller):
    path = "/v1/players"
    tags = ["players"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get("/me", summary="The calling player's profile")
    async def me(self, principal: NamedDependency[Principal], profiles: ProfilesDep) -> Profile:
        return await profiles.get(principal.require_player())

    @get("/{player_id:str}", summary="A player's profile (404 when unknown)")
    async def get_profile(self, player_id: FromPath[str], profiles: ProfilesDep) -> Profile:
        return await profiles.get(player_id)

    @patch(
        "/{player_id:str}",
        summary="Change a profile (that player, or the admin)",
        description="Any of display_name, avatar_url, country, metadata; null clears the "
        "optional ones. The next read anywhere shows the change.",
    )
    async def update_profile(
        self,
        player_id: FromPath[str],
        data: JSONBody[ProfilePatch],
        principal: NamedDependency[Principal],
        profiles: ProfilesDep,
    ) -> Profile:
        principal.require_self_or_admin(canonical_player_id(player_id))
        return await profiles.update(player_id, data)

    @delete(
        "/{player_id:str}",
        status_code=204,
        summary="Delete a player: profile, cache and sessions (that player, or the admin)",
    )
    async def delete_player(
        self, player_id: FromPath[str], principal: NamedDependency[Principal], profiles: ProfilesDep
    ) -> None:
        principal.require_self_or_admin(canonical_player_id(player_id))
        await profiles.delete(player_id)
