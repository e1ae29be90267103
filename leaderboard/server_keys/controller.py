"""``/v1/server-keys`` (admin): credentials for game servers."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody

from leaderboard.auth.guards import admin_only
from leaderboard.auth.principal import Principal
from leaderboard.lib.openapi import BEARER, ApiOperation, errors
from leaderboard.server_keys.deps import ServerKeysDep
from leaderboard.server_keys.models import ServerKey, ServerKeyCreate, ServerKeyList


class ServerKeysController(Controller):
    path = "/v1/server-keys"
    tags = ["server keys"]  # noqa: RUF012 - Litestar reads it as a class attribute
    guards = [admin_only]  # noqa: RUF012

    @post(
        "/",
        summary="Create a server key (admin); the key is in this answer only",
        description="A game server submits with it for players (`player_id`) on its boards "
        "(`leaderboards`; absent: every board) and reads what anyone may read.",
        operation_id="createServerKey",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(
            400, 401, 403, 413, 503, notes={400: "Also a leaderboard that does not exist."}
        ),
    )
    async def create(
        self,
        request: Request[Any, Principal, Any],
        data: JSONBody[ServerKeyCreate],
        server_keys: ServerKeysDep,
    ) -> ServerKey:
        return await server_keys.create(data, request.auth.actor or "admin")

    @get(
        "/",
        summary="The server keys that work (admin), without the keys themselves",
        operation_id="listServerKeys",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(401, 403, 503),
    )
    async def list_keys(self, server_keys: ServerKeysDep) -> ServerKeyList:
        return ServerKeyList(server_keys=await server_keys.list())

    @delete(
        "/{key_id:str}",
        status_code=204,
        summary="Revoke a server key (admin): it stops working at once, in every worker",
        operation_id="revokeServerKey",
        operation_class=ApiOperation,
        security=BEARER,
        responses=errors(401, 403, 404, 503, notes={404: "No such key, or revoked already."}),
    )
    async def revoke(
        self,
        request: Request[Any, Principal, Any],
        key_id: FromPath[str],
        server_keys: ServerKeysDep,
    ) -> None:
        await server_keys.revoke(key_id, request.auth.actor or "admin")
