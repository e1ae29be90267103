"""compose.yaml cannot run here (no Docker engine); check it agrees with the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


def service_env() -> dict[str, str]:
    env = compose()["services"]["leaderboard"]["environment"]
    # ${VAR:-default} → default, as compose would substitute with VAR unset.
    resolved = {}
    for name, value in env.items():
        text = str(value)
        if text.startswith("${") and ":-" in text:
            text = text.split(":-", 1)[1].rstrip("}")
        resolved[name] = text
    return resolved


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
