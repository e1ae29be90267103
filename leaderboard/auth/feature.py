"""The auth feature: sessions, and who a request comes from (the guards ask it)."""

from __future__ import annotations

from leaderboard.auth.controller import AuthController
from leaderboard.auth.principal import Authenticator
from leaderboard.auth.sessions import SessionStore
from leaderboard.lib.features import Feature, Provided, Services
from leaderboard.lib.invalidation import Invalidations


def build(services: Services) -> None:
    infra = services.infra
    sessions = services.add(
        SessionStore(
            infra.pipeline,
            infra.keys,
            ttl_seconds=infra.settings.session_ttl_seconds,
            max_age_seconds=infra.settings.session_max_age_seconds,
            # Workers keep the sessions they resolved for a moment; an end drops them all.
            invalidations=services.get(Invalidations),
        )
    )
    # Server keys are resolved by the server_keys feature, which plugs itself in later.
    services.add(Authenticator(sessions, infra.settings.admin_token))


FEATURE = Feature(
    name="auth",
    handlers=[AuthController],
    build=build,
    provides=[Provided("sessions", SessionStore)],
)
