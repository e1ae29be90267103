"""The events feature: rank changes over WebSocket and SSE (published by the index)."""

from __future__ import annotations

from leaderboard.boards.service import BoardService
from leaderboard.events.controller import EventsController
from leaderboard.events.hub import EventHub
from leaderboard.lib.features import Feature, Provided, Services


def build(services: Services) -> None:
    infra = services.infra
    services.add(EventHub(infra.settings, infra.keys, infra.redis, services.get(BoardService).get))


FEATURE = Feature(
    name="events",
    handlers=[EventsController],
    build=build,
    provides=[Provided("events", EventHub)],
)
