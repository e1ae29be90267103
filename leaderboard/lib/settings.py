"""Service settings, read once from the ``LEADERBOARD_*`` environment variables.

Also ``PROMETHEUS_MULTIPROC_DIR``, which prometheus_client reads too. Nothing else in the
package reads ``os.environ``: the CLI calls :meth:`Settings.from_env` and hands the result
to :func:`leaderboard.server.app.create_app`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec

ENV_PREFIX = "LEADERBOARD_"
# Settings given as a comma-separated list in the environment.
_LIST_FIELDS = frozenset({"cors_origins"})
# Settings that another program reads too, under that program's name.
_FOREIGN_NAMES = {"metrics_dir": "PROMETHEUS_MULTIPROC_DIR"}
_DEFAULT_PORTS = {"http": 80, "https": 443}

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
PositiveSeconds = Annotated[float, msgspec.Meta(gt=0, le=300)]


class SettingsError(ValueError):
    """A setting has a wrong value; the message is one line naming the variable."""


class Settings(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    database_url: str | None = None
    """``postgresql://`` URL of the Postgres holding profiles and scores; None: embedded."""
    database_pooler: Literal["auto", "none", "transaction"] = "auto"
    """How ``database_url`` reaches Postgres: ``transaction`` through PgBouncer in transaction
    mode (no cached prepared statements, nothing kept across statements); ``none`` directly;
    ``auto`` tells the two apart on the first connection (docs/postgres.md)."""
    database_replica_url: str | None = None
    """``postgresql://`` URL of a streaming replica for rebuilds and profile-cache misses;
    a lagging or unreachable replica falls back to the primary. None: the primary only."""
    redis_url: str | None = None
    """``redis://``, ``rediss://`` or ``unix://`` URL of Redis / Valkey; None: embedded."""
    redis_cluster: bool = False
    """True when ``redis_url`` points at a Redis Cluster node."""
    redis_key_prefix: str = ""
    """Prepended to every Redis key and channel we create (tenants or tests sharing a Redis)."""
    admin_token: str | None = None
    """Bearer token for admin calls; None: generated and kept in ``data_dir``."""
    data_dir: Path = Path(".leaderboard")
    """Where the embedded servers keep their data, and where a generated admin token lives."""
    host: str = "127.0.0.1"
    """Address ``serve`` listens on."""
    port: Port = 8000
    """Port ``serve`` listens on."""
    db_pool_min_size: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    """Connections the asyncpg pool keeps open; 0 lets the service start while Postgres is down."""
    db_pool_max_size: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10
    """Most connections one worker opens to Postgres."""
    db_timeout: PositiveSeconds = 5.0
    """Seconds for connecting, waiting for a pooled connection, and running one statement."""
    redis_timeout: PositiveSeconds = 2.0
    """Seconds for connecting to Redis and for one command."""
    redis_max_connections: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 64
    """Most connections one worker opens to Redis; further commands wait for a free one."""
    ready_timeout: PositiveSeconds = 1.0
    """Seconds each dependency check of ``GET /ready`` may take."""
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=64 * 1024 * 1024)] = 1024 * 1024
    """Largest request body accepted; larger ones get 413."""
    log_level: str = "info"
    """Python logging level name (debug, info, warning, error)."""
    session_ttl_seconds: Annotated[int, msgspec.Meta(ge=1, le=30 * 86400)] = 86400
    """Idle lifetime of a session; each use extends it (at most once a minute)."""
    session_max_age_seconds: Annotated[int, msgspec.Meta(ge=1, le=365 * 86400)] = 30 * 86400
    """Absolute lifetime of a session from its creation, however often it is used."""
    profile_cache_ttl_seconds: Annotated[int, msgspec.Meta(ge=1, le=7 * 86400)] = 3600
    """Lifetime of a cached profile (Redis hash), ±10 % jitter so entries do not expire together."""
    profile_negative_ttl_seconds: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 30
    """Lifetime of a cached "no such player" answer."""
    device_cache_ttl_seconds: Annotated[int, msgspec.Meta(ge=0, le=30 * 86400)] = 7 * 86400
    """How long Redis remembers a device's player after its last sign-in (a known device
    then signs in without a Postgres query); 0 turns the directory off."""
    auth_rate_limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 30
    """Device-auth calls allowed per client address per ``auth_rate_window_seconds``."""
    auth_rate_window_seconds: Annotated[int, msgspec.Meta(ge=1, le=86400)] = 60
    """The window of ``auth_rate_limit``."""
    events_stream_length: Annotated[int, msgspec.Meta(ge=10, le=1_000_000)] = 1000
    """Events kept per board (approximately) for clients that reconnect and catch up."""
    events_client_backlog: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 256
    """Events queued per WebSocket/SSE client; a slower client loses its oldest."""
    top_page_cache_ms: Annotated[int, msgspec.Meta(ge=0, le=60_000)] = 500
    """How long a worker serves a top page it built again (0: never); see page_cache.py."""
    events_max_streams_per_client: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 16
    """SSE and WebSocket streams one client address may hold open in a worker; more: 429."""
    ws_compression: bool = False
    """Accept WebSocket clients' offer of permessage-deflate. Off: every event frame would
    be compressed for each subscriber on its own, the largest cost of a fan-out (an event
    is a few hundred bytes; docs/benchmarks.md)."""
    read_slots: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 4
    """While a worker has a write in flight, at most this many of its reads run at once, so
    that a flood of cached reads cannot starve submissions (lib/priority.py); 0: off."""
    http_header_timeout_seconds: PositiveSeconds = 10.0
    """A connection that has not sent a whole request head within this time is closed."""
    index_check_seconds: Annotated[float, msgspec.Meta(ge=1, le=3600)] = 20.0
    """How often each worker checks the indexes in use against Postgres (docs/operations.md)."""
    retention_check_seconds: Annotated[float, msgspec.Meta(ge=1, le=86400)] = 60.0
    """How often a worker looks for score periods past a board's ``keep_periods`` to drop and
    for period partitions to create (one worker at a time; docs/postgres.md)."""
    league_check_seconds: Annotated[float, msgspec.Meta(ge=0.1, le=3600)] = 5.0
    """How often each worker looks for league seasons past their end to close (one worker
    closes each; a submission that meets an ended season asks for a look at once)."""
    metrics_token: str | None = None
    """Bearer token that ``GET /metrics`` asks for; None: anyone who reaches it may read it."""
    metrics_dir: Path | None = None
    """``PROMETHEUS_MULTIPROC_DIR``: where the workers of one ``serve`` keep their metrics, so
    that ``/metrics`` adds them up (prometheus_client's multiprocess mode)."""
    cors_origins: tuple[str, ...] = ()
    """Origins (``https://game.example``) whose browser pages may call the API, from a
    comma-separated list; ``*`` alone: any page may read (GET/HEAD). Empty: none may."""
    clock_start: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    """The service's clock starts at this moment (RFC 3339 with an offset) and runs on at the
    real pace: to rehearse a reset or a board's end in staging. None: the system clock."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``LEADERBOARD_*`` variables; empty values count as unset.

        Raises:
            SettingsError: one line naming the variable and what is wrong with it.

        """
        env = os.environ if environ is None else environ
        raw: dict[str, Any] = {}
        for name in cls.__struct_fields__:
            value = env.get(env_name(name), "").strip()
            if value and name in _LIST_FIELDS:
                raw[name] = tuple(item.strip() for item in value.split(",") if item.strip())
            elif value:
                raw[name] = value
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Settings:
        """Validate field values (strings are converted) into Settings."""
        unknown = sorted(set(raw) - set(cls.__struct_fields__))
        if unknown:
            raise SettingsError(f"{env_name(unknown[0])}: unknown setting")
        try:
            settings = msgspec.convert(dict(raw), cls, strict=False, dec_hook=_decode_path)
        except msgspec.ValidationError as exc:
            raise SettingsError(_describe(exc, raw)) from None
        settings.check()
        return settings

    def check(self) -> None:
        """Cross-field and format checks that msgspec constraints cannot express."""
        if self.database_url is not None:
            _check_url("database_url", self.database_url, {"postgresql", "postgres"})
        if self.database_replica_url is not None:
            _check_url(
                "database_replica_url", self.database_replica_url, {"postgresql", "postgres"}
            )
        if self.redis_url is not None:
            _check_url("redis_url", self.redis_url, {"redis", "rediss", "unix"})
        if self.db_pool_min_size > self.db_pool_max_size:
            raise SettingsError(
                f"{env_name('db_pool_min_size')}: must not exceed "
                f"{env_name('db_pool_max_size')} ({self.db_pool_max_size})"
            )
        if self.log_level.lower() not in {"debug", "info", "warning", "error", "critical"}:
            raise SettingsError(
                f"{env_name('log_level')}: expected debug, info, warning or error, "
                f"got {self.log_level!r}"
            )
        if self.session_ttl_seconds > self.session_max_age_seconds:
            raise SettingsError(
                f"{env_name('session_ttl_seconds')}: must not exceed "
                f"{env_name('session_max_age_seconds')} ({self.session_max_age_seconds})"
            )
        for name in ("admin_token", "metrics_token"):
            token = getattr(self, name)
            if token is not None and len(token) < 16:
                raise SettingsError(f"{env_name(name)}: must be at least 16 characters")
        if "*" in self.cors_origins and len(self.cors_origins) > 1:
            raise SettingsError(
                f"{env_name('cors_origins')}: * stands alone (any page may read); "
                "to let a game's pages write too, list its origins instead"
            )
        for origin in self.cors_origins:
            if origin != "*":
                _check_origin(origin)

    @property
    def embedded_needed(self) -> bool:
        """True when ``serve`` has to start an embedded Postgres or Redis-compatible server."""
        return self.database_url is None or self.redis_url is None


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return _FOREIGN_NAMES.get(field) or ENV_PREFIX + field.upper()


def _decode_path(type_: type, value: Any) -> Any:
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError


def _describe(exc: msgspec.ValidationError, raw: Mapping[str, Any]) -> str:
    message = str(exc)
    message, _, path = message.rpartition(" - at `$.")
    field = path.rstrip("`")
    if field in raw:
        return f"{env_name(field)}: {message} (got {raw[field]!r})"
    return str(exc)


def _check_url(field: str, url: str, schemes: set[str]) -> None:
    name = env_name(field)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError as exc:
        raise SettingsError(f"{name}: not a valid URL ({exc})") from None
    if parts.scheme not in schemes:
        expected = ", ".join(f"{scheme}://" for scheme in sorted(schemes))
        # Only the scheme is echoed: the rest of a URL may hold a password.
        raise SettingsError(
            f"{name}: expected a URL starting with {expected}, got {parts.scheme or 'no'} scheme"
        )
    if parts.scheme == "unix":
        if not parts.path:
            raise SettingsError(f"{name}: a unix:// URL needs a socket path")
        return
    # Postgres also accepts a socket directory in ?host=, so an empty host is allowed there.
    if not parts.hostname and "host=" not in parts.query:
        raise SettingsError(f"{name}: the URL has no host")
    if port == 0:
        raise SettingsError(f"{name}: port 0 is not a valid port")


def _check_origin(origin: str) -> None:
    """An origin exactly as a browser sends it in ``Origin``, or a one-line error.

    Browsers send ``scheme://host[:port]``: lower case, no path, no default port. An
    entry written otherwise (``https://game.example/``) would never match, silently.
    """
    name = env_name("cors_origins")
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError as exc:
        raise SettingsError(f"{name}: {origin!r} is not an origin ({exc})") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        raise SettingsError(
            f"{name}: {origin!r} is not an origin; expected scheme://host[:port] "
            "with http or https, for example https://game.example"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown = f"{parts.scheme}://{host}"
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        shown += f":{port}"
    if origin != shown:
        raise SettingsError(
            f"{name}: write {origin!r} as a browser sends it: {shown!r} "
            "(lower case, no path, no default port)"
        )
