"""compose.yaml cannot run here (no Docker engine); check it agrees with the settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from leaderboard.lib.settings import Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_VARIABLES = {
    "LEADERBOARD_DATABASE_URL",
    "LEADERBOARD_REDIS_URL",
    "LEADERBOARD_REDIS_CLUSTER",
    "LEADERBOARD_ADMIN_TOKEN",
    "LEADERBOARD_DATA_DIR",
    "LEADERBOARD_HOST",
    "LEADERBOARD_PORT",
}


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


# The admin token a user exports before `docker compose up` (README, Docker).
USER_ENV = {"LEADERBOARD_ADMIN_TOKEN": "a-long-random-secret-for-this-test"}

_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


class ComposeRefusesError(Exception):
    """What `docker compose` does for ${VAR:?message} with VAR unset or empty."""


def interpolate(text: str, environ: dict[str, str]) -> str:
    """Compose's substitution of ${VAR}, ${VAR:-default} and ${VAR:?error}."""

    def substitute(match: re.Match[str]) -> str:
        value = environ.get(match["name"], "")
        if value:
            return value
        if match["op"] == ":?":
            raise ComposeRefusesError(f"{match['name']}: {match['arg']}")
        return match["arg"] or ""

    return _VARIABLE.sub(substitute, text)


def service_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The service's environment as compose would pass it, given the user's variables."""
    env = compose()["services"]["leaderboard"]["environment"]
    return {name: interpolate(str(value), USER_ENV if environ is None else environ)
            for name, value in env.items()}  # fmt: skip


def test_services_and_health_checks() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "leaderboard"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"
    depends = services["leaderboard"]["depends_on"]
    assert depends == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert (ROOT / "Dockerfile").is_file()
    assert services["leaderboard"]["build"] == "."


def test_the_service_sets_every_contract_variable_and_nothing_unknown() -> None:
    env = service_env()
    assert set(env) >= CONTRACT_VARIABLES
    known = {env_name(field) for field in Settings.__struct_fields__}
    assert set(env) <= known, f"unknown variables: {set(env) - known}"


def test_the_variables_parse_and_point_at_the_compose_services() -> None:
    settings = Settings.from_env(service_env())
    assert settings.database_url is not None
    assert settings.redis_url is not None
    assert urlsplit(settings.database_url).hostname == "postgres"
    assert urlsplit(settings.redis_url).hostname == "redis"
    assert settings.host == "0.0.0.0"
    assert not settings.embedded_needed
    ports = compose()["services"]["leaderboard"]["ports"]
    assert f"{settings.port}:{settings.port}" in ports


def test_the_postgres_credentials_match_the_url() -> None:
    postgres_env = compose()["services"]["postgres"]["environment"]
    url = urlsplit(service_env()["LEADERBOARD_DATABASE_URL"])
    assert url.username == postgres_env["POSTGRES_USER"]
    assert url.password == postgres_env["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == postgres_env["POSTGRES_DB"]


@pytest.mark.parametrize("environ", [{}, {"LEADERBOARD_ADMIN_TOKEN": ""}])
def test_compose_refuses_to_start_without_an_admin_token(environ: dict[str, str]) -> None:
    # Not a well-known default that anyone reading this file could use.
    with pytest.raises(ComposeRefusesError, match="LEADERBOARD_ADMIN_TOKEN: set LEADERBOARD_"):
        service_env(environ)
    raw = str(compose()["services"]["leaderboard"]["environment"]["LEADERBOARD_ADMIN_TOKEN"])
    assert raw.startswith("${LEADERBOARD_ADMIN_TOKEN:?")


def test_the_users_admin_token_reaches_the_service() -> None:
    settings = Settings.from_env(service_env())
    assert settings.admin_token == USER_ENV["LEADERBOARD_ADMIN_TOKEN"]
