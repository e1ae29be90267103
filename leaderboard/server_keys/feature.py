"""The server keys feature: credentials for game servers, scoped to boards."""

from __future__ import annotations

from leaderboard.audit.repository import AuditLog
from leaderboard.auth.principal import Authenticator
from leaderboard.boards.service import BoardService
from leaderboard.lib.features import Feature, Provided, Services
from leaderboard.server_keys.controller import ServerKeysController
from leaderboard.server_keys.store import ServerKeyStore


def build(services: Services) -> None:
    infra = services.infra
    store = services.add(
        ServerKeyStore(
            infra.db,
            infra.pipeline,
            infra.keys,
            services.get(AuditLog),
            services.get(BoardService).get,
        )
    )
    services.get(Authenticator).server_keys = store.resolve


FEATURE = Feature(
    name="server_keys",
    handlers=[ServerKeysController],
    build=build,
    provides=[Provided("server_keys", ServerKeyStore)],
)
