"""The features the service is made of, in the order they are built and routed.

A feature builds on those listed before it (ranking on boards and players, moderation on
ranking and scores, leagues on the event hub …). A new feature is a folder with a
``feature.py`` and a line here.
"""

from __future__ import annotations

from leaderboard.audit.feature import FEATURE as AUDIT
from leaderboard.auth.feature import FEATURE as AUTH
from leaderboard.boards.feature import FEATURE as BOARDS
from leaderboard.events.feature import FEATURE as EVENTS
from leaderboard.health.feature import FEATURE as HEALTH
from leaderboard.leagues.feature import FEATURE as LEAGUES
from leaderboard.lib.features import Feature
from leaderboard.moderation.feature import FEATURE as MODERATION
from leaderboard.players.feature import FEATURE as PLAYERS
from leaderboard.ranking.feature import FEATURE as RANKING
from leaderboard.ratelimit.feature import FEATURE as RATELIMIT
from leaderboard.scores.feature import FEATURE as SCORES
from leaderboard.server_keys.feature import FEATURE as SERVER_KEYS
from leaderboard.submissions.feature import FEATURE as SUBMISSIONS
from leaderboard.web.feature import FEATURE as WEB

FEATURES: tuple[Feature, ...] = (
    HEALTH,
    AUTH,
    RATELIMIT,
    AUDIT,
    PLAYERS,
    BOARDS,
    RANKING,
    SCORES,
    MODERATION,
    SUBMISSIONS,
    SERVER_KEYS,
    EVENTS,
    LEAGUES,
    WEB,
)
