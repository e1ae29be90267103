"""The application factory."""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components

from leaderboard import __version__
from leaderboard.lib.clock import Clock, started_at
from leaderboard.lib.cors import cors_config, cors_headers_hook
from leaderboard.lib.json_depth import DepthCheckedRequest
from leaderboard.lib.logs import configure_logging
from leaderboard.lib.openapi import SECURITY_SCHEMES, allow_methods_middleware
from leaderboard.lib.openapi_schemas import StructSchemas
from leaderboard.lib.priority import WritesFirst
from leaderboard.lib.request_middleware import request_middleware
from leaderboard.lib.settings import Settings
from leaderboard.server.collector import settle_collector
from leaderboard.server.error_handlers import EXCEPTION_HANDLERS
from leaderboard.server.features import FEATURES
from leaderboard.server.plugin import InfrastructurePlugin
from leaderboard.web import (
    DOCS_CSP,
    OfflineScalar,
    OfflineSwagger,
    nosniff,
    page_headers,
)

OPENAPI_PATH = "/schema"


def create_app(settings: Settings, *, clock: Clock | None = None) -> Litestar:
    """Build the service for ``settings`` (whose database and Redis URLs must be set).

    ``clock`` tells the time for periods, board windows and events; by default the one
    ``settings.clock_start`` asks for (tests inject their own).
    """
    clock = clock or started_at(settings.clock_start)
    cors = cors_config(settings.cors_origins)
    return Litestar(
        route_handlers=[handler for feature in FEATURES for handler in feature.handlers],
        before_send=[nosniff] if cors is None else [nosniff, cors_headers_hook(cors)],
        # Litestar's CORS layer answers preflights (an OPTIONS with an Origin) before any
        # route is matched, so it goes first (lib/cors.py); unset, there is none.
        cors_config=cors,
        # allow_methods_middleware answers OPTIONS (Litestar 2's Allow header is wrong for
        # paths with several handlers; see lib/openapi.py), after the request got its id.
        middleware=[
            request_middleware,
            WritesFirst(settings.read_slots).middleware,
            allow_methods_middleware,
        ],
        # StructSchemas: the Structs' OpenAPI schemas refuse what the Structs refuse (unknown
        # fields, list items that break their constraints), with ECMA patterns (openapi.py).
        plugins=[InfrastructurePlugin(settings, clock), StructSchemas()],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        # JSON bodies nest at most 32 levels, checked before they are decoded (a 400 naming
        # the body; lib/json_depth.py).
        request_class=DepthCheckedRequest,
        # Logging is configured once per process by the CLI (leaderboard/lib/logs.py), not by
        # each app: Litestar's own dictConfig would replace handlers (and the tests').
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="Leaderboard service",
            version=__version__,
            description="Scores, ranks, player profiles and rank-change events for games. "
            "Every error answers the same JSON body, `ErrorBody`.",
            # Guarded operations say `security: bearer` (lib/openapi.py).
            components=Components(security_schemes=SECURITY_SCHEMES),
            # Scalar is the interactive UI at /schema; Swagger at /schema/swagger; the
            # document itself at /schema/openapi.json. Both UIs come from this service
            # (leaderboard/web/docs.py), so they work offline; the router gives the
            # pages their Content-Security-Policy and framing rules.
            openapi_router=Router(
                path=OPENAPI_PATH,
                route_handlers=[],
                include_in_schema=False,  # as Litestar's own router: not operations
                dto=None,
                return_dto=None,
                response_headers=page_headers(DOCS_CSP),
            ),
            render_plugins=[OfflineScalar(), OfflineSwagger(path="/swagger")],
        ),
    )


def create_app_from_env() -> Litestar:
    """Factory for ``uvicorn --factory`` workers: settings come from the environment."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)  # a spawned worker starts with no logging set up
    return create_worker_app(settings)


def create_worker_app(settings: Settings) -> Litestar:
    """The service as a worker process runs it: its garbage collector settled once started.

    server/collector.py says why; on_startup hooks run after the plugin's lifespan has
    opened the pools and built the services, so those are frozen too.
    """
    app = create_app(settings)
    app.on_startup.append(settle_collector)
    return app
