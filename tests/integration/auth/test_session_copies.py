"""Workers keep the sessions they resolved for a moment; ending one reaches every worker.

Two app instances stand for two worker processes. A session resolved by one is served
from its copy (no Redis call); logout, a ban or a deletion through the other ends it in
both before answering. A worker that does not hear the invalidation channel uses no copy.
"""

from __future__ import annotations

import httpx
import pytest

from leaderboard.auth.sessions import LOCAL_SECONDS
from leaderboard.lib.invalidation import Invalidations
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from tests.conftest import ADMIN, Workers
from tests.helpers import session_key, sign_in

pytestmark = pytest.mark.redis_modes
Http = httpx.AsyncClient


async def me(http: Http, headers: dict[str, str]) -> int:
    return (await http.get("/v1/players/me", headers=headers)).status_code


async def test_a_resolved_session_is_served_from_the_workers_copy(
    workers: Workers, redis: AnyRedis, settings: Settings
) -> None:
    a, b = workers
    _, headers = await sign_in(a)
    assert await me(b, headers) == 200  # resolved in Redis, kept
    # Deleted behind the service's back (not by a logout): the copy still answers, which
    # shows it is used; it lives at most LOCAL_SECONDS.
    await redis.delete(session_key(settings.redis_key_prefix, headers))
    assert await me(b, headers) == 200
    assert LOCAL_SECONDS <= 10


@pytest.mark.parametrize("how", ["logout", "ban", "delete"])
async def test_an_ended_session_is_refused_by_every_worker_at_once(
    workers: Workers, how: str
) -> None:
    a, b = workers
    player, headers = await sign_in(a)
    assert await me(a, headers) == 200
    assert await me(b, headers) == 200  # both workers hold a copy now
    if how == "logout":
        ended = await a.delete("/v1/auth/session", headers=headers)
    elif how == "ban":
        ended = await a.post(f"/v1/players/{player}/ban", json={}, headers=ADMIN)
    else:
        ended = await a.delete(f"/v1/players/{player}", headers=ADMIN)
    assert ended.status_code == 204, ended.text
    assert await me(b, headers) == 401
    assert await me(a, headers) == 401


async def test_a_worker_that_does_not_hear_the_channel_uses_no_copy(
    workers: Workers, redis: AnyRedis, settings: Settings
) -> None:
    a, b = workers
    _, headers = await sign_in(a)
    assert await me(b, headers) == 200
    # B stops hearing announcements (as when its subscription breaks): it must not trust
    # its copies, which a logout elsewhere could no longer drop.
    await workers.services[1].get(Invalidations).close()
    await redis.delete(session_key(settings.redis_key_prefix, headers))
    assert await me(b, headers) == 401
