"""compose.yaml cannot run here (no Docker engine): check it agrees with the settings, and
that it does what docs/operations.md (and the README) say a deployment should do."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from leaderboard.lib.settings import Settings, env_name
from tests.paths import REPO

ROOT = REPO
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
USER_ENV = {
    "LEADERBOARD_ADMIN_TOKEN": "a-long-random-secret-for-this-test",
    "LEADERBOARD_METRICS_TOKEN": "another-long-secret-for-prometheus",
}

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
    # Ours, and uvicorn's (which `serve` hands to it).
    known = {env_name(field) for field in Settings.__struct_fields__} | {"FORWARDED_ALLOW_IPS"}
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


# -- compose.yaml says what docs/operations.md (and the README) say --------------------

GUIDE = (ROOT / "docs" / "operations.md").read_text()
README = (ROOT / "README.md").read_text()


def guide_section(title: str) -> str:
    """The text of one ``## title`` section of docs/operations.md."""
    start = GUIDE.index(f"## {title}\n")
    end = GUIDE.find("\n## ", start + 1)
    return GUIDE[start : end if end >= 0 else None]


def options(command: list[str]) -> dict[str, str]:
    """``--name value`` pairs of a command line (after compose's interpolation)."""
    words = [interpolate(str(word), USER_ENV) for word in command]
    return {
        word[2:]: words[i + 1]
        for i, word in enumerate(words)
        if word.startswith("--") and i + 1 < len(words)
    }


def redis_bytes(size: str) -> int:
    units = {"": 1, "b": 1, "kb": 1000, "k": 1000, "mb": 10**6, "m": 10**6, "gb": 10**9,
             "g": 10**9}  # fmt: skip
    number, unit = re.fullmatch(r"(\d+)([a-z]*)", size.lower()).groups()  # type: ignore[union-attr]
    return int(number) * units[unit]


def test_every_variable_is_a_setting_or_one_the_guide_explains() -> None:
    settings_variables = {env_name(field) for field in Settings.__struct_fields__}
    for name in service_env():
        if name not in settings_variables:
            assert f"`{name}`" in GUIDE, f"{name}: compose sets it, docs/operations.md is silent"


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    table = README[README.index("## Configuration") :]
    for field in Settings.__struct_fields__:
        assert (
            f"| `{env_name(field)}`" in table
            or f"`{env_name(field)}` |" in table
            or (f"`{env_name(field)}`," in table)
        ), f"{env_name(field)} is missing from the README's configuration table"


def test_redis_runs_with_the_settings_the_guide_asks_for() -> None:
    section = guide_section("Redis settings")
    redis = options(compose()["services"]["redis"]["command"])
    # Every `setting value` the guide recommends in backticks, compose uses.
    recommended = dict(
        re.findall(r"`(appendonly|appendfsync|maxmemory-policy) ([a-z-]+)`", section)
    )
    assert set(recommended) == {"appendonly", "appendfsync", "maxmemory-policy"}
    for name, value in recommended.items():
        assert redis.get(name) == value, f"--{name}: the guide asks for {value}"
    # "Set maxmemory": a limit, of the size the guide names for compose.
    assert redis_bytes(redis["maxmemory"]) >= 10**8
    assert "`compose.yaml` sets 1 GB" in section
    assert redis_bytes(redis["maxmemory"]) == 10**9
    assert "`REDIS_MAXMEMORY`" in section
    assert "REDIS_MAXMEMORY" in str(compose()["services"]["redis"]["command"])


def test_several_workers_keep_their_metrics_where_metrics_adds_them_up() -> None:
    service = compose()["services"]["leaderboard"]
    workers = int(options(service["command"]).get("workers", "1"))
    assert workers > 1  # what the guide's text below is about
    settings = Settings.from_env(service_env())
    assert settings.metrics_dir is not None
    section = guide_section("Metrics")
    assert "`PROMETHEUS_MULTIPROC_DIR`" in section
    assert f"`{settings.metrics_dir}`" in section  # the directory the guide names for compose


def test_metrics_on_the_public_port_ask_for_a_token() -> None:
    service = compose()["services"]["leaderboard"]
    assert service["ports"], "the API is published"
    settings = Settings.from_env(service_env())
    assert settings.metrics_token == USER_ENV["LEADERBOARD_METRICS_TOKEN"]
    with pytest.raises(ComposeRefusesError, match="LEADERBOARD_METRICS_TOKEN"):
        service_env({"LEADERBOARD_ADMIN_TOKEN": USER_ENV["LEADERBOARD_ADMIN_TOKEN"]})
    section = guide_section("Metrics")
    assert "`LEADERBOARD_METRICS_TOKEN`" in section
    assert "`compose.yaml` requires the token" in section


def test_forwarded_addresses_come_from_the_proxy_only() -> None:
    env = service_env()
    assert env["FORWARDED_ALLOW_IPS"] == "127.0.0.1"  # until the user names their proxy
    assert (
        service_env({**USER_ENV, "FORWARDED_ALLOW_IPS": "10.0.0.5"})["FORWARDED_ALLOW_IPS"]
        == "10.0.0.5"
    )
    assert "*" not in env["FORWARDED_ALLOW_IPS"]
    assert "**`FORWARDED_ALLOW_IPS`**" in guide_section("Behind a proxy: TLS termination")
