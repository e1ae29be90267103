"""A league's events for its SSE and WebSocket clients: the worker's hub and the topic."""

from __future__ import annotations

from leaderboard.events.hub import EventHub, Topic
from leaderboard.events.topics import league_topic
from leaderboard.leagues.service import LeagueService
from leaderboard.lib.keys import Keys


class LeagueEvents:
    """What a league's event streams need: the worker's hub, and the league's topic."""

    def __init__(self, hub: EventHub, leagues: LeagueService, keys: Keys) -> None:
        self.hub = hub
        self.keys = keys
        self._leagues = leagues

    async def topic(self, league_id: str) -> Topic:
        """The league's topic; NotFoundError for no league (no events of nothing)."""
        await self._leagues.get(league_id)
        return league_topic(self.keys, league_id)
