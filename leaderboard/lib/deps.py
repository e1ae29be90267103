"""How handlers ask for the infrastructure the plugin provides (by parameter name).

Each feature declares the dependencies of its own services in its ``deps.py``; these are
the ones every feature may share. Litestar cannot validate a union of two classes
(Redis | RedisCluster); the plugin is the only provider of it, so its validation is skipped.
"""

from __future__ import annotations

from litestar.di import NamedDependency
from litestar.params import SkipValidation

from leaderboard.lib.db import Database
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings

SettingsDep = NamedDependency[Settings]
KeysDep = NamedDependency[Keys]
DatabaseDep = NamedDependency[Database]
RedisDep = NamedDependency[SkipValidation[AnyRedis]]
