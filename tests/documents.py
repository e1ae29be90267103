"""The service's machine-readable documents, built offline from the app as `serve` builds it.

The OpenAPI document (what /schema/openapi.json serves) and a document of the event
schemas (what the WebSocket and SSE bridges send, which OpenAPI cannot describe): the
contract tests fuzz the first; the TypeScript client's types are generated from both.
"""

from __future__ import annotations

from typing import Any

import msgspec

from leaderboard.events.models import (
    EntryRemoved,
    EntryRestored,
    EventsDropped,
    LeagueEventsDropped,
    Overtaken,
    RankChanged,
    SeasonEnded,
    ZoneChanged,
)
from leaderboard.lib.settings import Settings
from leaderboard.server.app import create_app
from tests.conftest import TEST_ADMIN_TOKEN


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, from the app as `serve` builds it, without serving it."""
    unused = Settings(
        database_url="postgresql://unused@127.0.0.1:1/unused",
        redis_url="redis://127.0.0.1:1/0",
        admin_token=TEST_ADMIN_TOKEN,
    )
    return create_app(unused).openapi_schema.to_schema()


def events_document() -> dict[str, Any]:
    """The event messages' JSON schemas (leaderboard/events/models.py) as OpenAPI components.

    No version in ``info``: the generated types change only when a schema does.
    """
    _, schemas = msgspec.json.schema_components(
        (
            RankChanged,
            Overtaken,
            EntryRemoved,
            EntryRestored,
            EventsDropped,
            ZoneChanged,
            SeasonEnded,
            LeagueEventsDropped,
        ),
        ref_template="#/components/schemas/{name}",
    )
    return {
        "openapi": "3.1.0",
        "info": {"title": "Leaderboard events", "version": "1"},
        "paths": {},
        "components": {"schemas": schemas},
    }
