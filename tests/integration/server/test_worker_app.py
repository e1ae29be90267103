"""The app as `serve`'s workers run it (server/app.py, create_worker_app)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from leaderboard.lib.settings import Settings
from leaderboard.server.app import create_app, create_worker_app
from leaderboard.server.collector import YOUNG_THRESHOLD
from tests.conftest import running


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """The test process' collector as it was (a worker's settings are for a worker)."""
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("collector_restored")
async def test_a_started_worker_has_frozen_its_start_up_and_spaced_its_collections(
    settings: Settings, redis: Redis
) -> None:
    app = create_worker_app(settings)
    assert gc.get_freeze_count() == 0
    async with running(app):
        # What start-up built (the app, its services and pools) is out of the collector's
        # sight, so a full collection walks only what requests made since.
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert not any(o is app for o in gc.get_objects())  # frozen: not walked


@pytest.mark.usefixtures("collector_restored")
async def test_an_app_built_for_tests_leaves_the_collector_alone(
    settings: Settings, redis: Redis
) -> None:
    thresholds = gc.get_threshold()
    async with running(create_app(settings)):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == thresholds
