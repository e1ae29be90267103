from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from leaderboard.lib.clock import MovableClock, started_at, system_clock
from leaderboard.lib.settings import Settings, SettingsError, env_name


def test_defaults_match_the_contract() -> None:
    settings = Settings.from_env({})
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.redis_cluster is False
    assert settings.admin_token is None
    assert settings.data_dir == Path(".leaderboard")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.embedded_needed


def test_every_contract_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "LEADERBOARD_DATABASE_URL": "postgresql://u:p@db.example:5433/lb",
            "LEADERBOARD_REDIS_URL": "rediss://cache.example:6380/2",
            "LEADERBOARD_REDIS_CLUSTER": "1",
            "LEADERBOARD_ADMIN_TOKEN": "a" * 32,
            "LEADERBOARD_DATA_DIR": "/var/lib/lb",
            "LEADERBOARD_HOST": "0.0.0.0",
            "LEADERBOARD_PORT": "9000",
            "UNRELATED": "ignored",
        }
    )
    assert settings.database_url == "postgresql://u:p@db.example:5433/lb"
    assert settings.redis_url == "rediss://cache.example:6380/2"
    assert settings.redis_cluster is True
    assert settings.admin_token == "a" * 32
    assert settings.data_dir == Path("/var/lib/lb")
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert not settings.embedded_needed


def test_empty_values_count_as_unset() -> None:
    settings = Settings.from_env({"LEADERBOARD_DATABASE_URL": "", "LEADERBOARD_PORT": "  "})
    assert settings.database_url is None
    assert settings.port == 8000


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("LEADERBOARD_PORT", "70000", "<= 65535"),
        ("LEADERBOARD_PORT", "0", ">= 1"),
        ("LEADERBOARD_PORT", "eighty", "Expected `int`"),
        ("LEADERBOARD_REDIS_CLUSTER", "maybe", "Expected `bool`"),
        ("LEADERBOARD_TOP_PAGE_CACHE_MS", "-1", ">= 0"),
        ("LEADERBOARD_TOP_PAGE_CACHE_MS", "600000", "<= 60000"),
        ("LEADERBOARD_TOP_PAGE_CACHE_MS", "0.5", "Expected `int`"),
        ("LEADERBOARD_DATABASE_URL", "mysql://db/x", "postgresql://"),
        ("LEADERBOARD_DATABASE_URL", "postgresql://db:99999/x", "not a valid URL"),
        ("LEADERBOARD_DATABASE_URL", "postgresql:///x", "no host"),
        ("LEADERBOARD_REDIS_URL", "http://cache:6379", "redis://"),
        ("LEADERBOARD_REDIS_URL", "redis://cache:port/0", "not a valid URL"),
        ("LEADERBOARD_ADMIN_TOKEN", "short", "at least 16"),
        ("LEADERBOARD_METRICS_TOKEN", "short", "at least 16"),
        ("LEADERBOARD_DB_TIMEOUT", "-1", "> 0"),
        ("LEADERBOARD_LOG_LEVEL", "loud", "expected debug"),
        ("LEADERBOARD_CLOCK_START", "2024-02-29T12:00:00", "timezone"),
        ("LEADERBOARD_CLOCK_START", "2024-02-30T12:00:00Z", "RFC3339"),
        ("LEADERBOARD_CLOCK_START", "tomorrow", "RFC3339"),
    ],
)
def test_a_wrong_value_names_its_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}: "), message
    assert expected in message
    assert "\n" not in message


def test_a_url_error_does_not_echo_the_password() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"LEADERBOARD_REDIS_URL": "http://user:hunter2@cache:6379"})
    assert "hunter2" not in str(caught.value)


def test_postgres_socket_urls_are_accepted() -> None:
    settings = Settings.from_env({"LEADERBOARD_DATABASE_URL": "postgresql:///lb?host=/run/pg"})
    assert settings.database_url == "postgresql:///lb?host=/run/pg"


def test_env_name_maps_fields_to_variables() -> None:
    assert env_name("redis_cluster") == "LEADERBOARD_REDIS_CLUSTER"


def test_cors_origins_are_a_comma_separated_list() -> None:
    settings = Settings.from_env(
        {"LEADERBOARD_CORS_ORIGINS": " https://game.example, http://127.0.0.1:5173 ,"}
    )
    assert settings.cors_origins == ("https://game.example", "http://127.0.0.1:5173")
    assert Settings.from_env({}).cors_origins == ()
    assert Settings.from_env({"LEADERBOARD_CORS_ORIGINS": "*"}).cors_origins == ("*",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://game.example/", "as a browser sends it: 'https://game.example'"),
        ("https://Game.example", "as a browser sends it: 'https://game.example'"),
        ("https://game.example:443", "as a browser sends it: 'https://game.example'"),
        ("game.example", "expected scheme://host[:port]"),
        ("null", "expected scheme://host[:port]"),
        ("ftp://game.example", "expected scheme://host[:port]"),
        ("*, https://game.example", "* stands alone"),
    ],
)
def test_a_cors_origin_must_be_written_as_browsers_send_it(value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"LEADERBOARD_CORS_ORIGINS": value})
    assert str(caught.value).startswith("LEADERBOARD_CORS_ORIGINS: ")
    assert expected in str(caught.value)


def test_the_metrics_directory_is_prometheus_clients_own_variable() -> None:
    """prometheus_client reads PROMETHEUS_MULTIPROC_DIR too: one name for both."""
    assert env_name("metrics_dir") == "PROMETHEUS_MULTIPROC_DIR"
    settings = Settings.from_env({"PROMETHEUS_MULTIPROC_DIR": "/var/run/lb-metrics"})
    assert settings.metrics_dir == Path("/var/run/lb-metrics")
    assert Settings.from_env({"LEADERBOARD_METRICS_DIR": "/x"}).metrics_dir is None


def test_the_clock_starts_where_asked_and_runs_on() -> None:
    assert started_at(Settings.from_env({}).clock_start) is system_clock
    start = Settings.from_env({"LEADERBOARD_CLOCK_START": "2024-02-29T23:59:59+01:00"})
    clock = started_at(start.clock_start)
    first, second = clock(), clock()
    assert first.tzinfo is not None
    assert first.utcoffset() == timedelta(0)
    assert datetime(2024, 2, 29, 22, 59, 59, tzinfo=UTC) <= first <= second
    assert second - datetime(2024, 2, 29, 22, 59, 59, tzinfo=UTC) < timedelta(seconds=5)


def test_a_movable_clock_moves_and_keeps_running() -> None:
    clock = MovableClock(datetime(2025, 12, 31, 23, 59, 58, tzinfo=UTC))
    clock.advance(timedelta(seconds=4))
    assert clock().date() == date(2026, 1, 1)
    clock.set(datetime(2024, 2, 29, tzinfo=UTC))
    assert clock() >= datetime(2024, 2, 29, tzinfo=UTC)
