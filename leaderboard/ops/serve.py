"""``leaderboard serve``: embedded servers if needed, migrations, then uvicorn.

Order of events, and the reverse on the way out (Ctrl-C, SIGTERM or an error):
bind the HTTP port → lock the data directory → start embedded Postgres / Valkey (and
their supervisor, which restarts one that dies) → apply migrations → serve → (stop) →
stop the supervisor → stop Valkey (flushes its append-only file) → stop Postgres →
unlock → close the port.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import msgspec
import uvicorn
from uvicorn.supervisors import Multiprocess

from leaderboard import __version__
from leaderboard.lib.metrics import clear_metrics_dir
from leaderboard.lib.settings import Settings, env_name
from leaderboard.ops.embedded import DataDirLock, EmbeddedPostgres, EmbeddedValkey
from leaderboard.ops.embedded.supervisor import Supervised, Supervisor
from leaderboard.ops.migrations import Migration, apply_migrations, discover
from leaderboard.server.app import OPENAPI_PATH, create_app

logger = logging.getLogger(__name__)

ADMIN_TOKEN_FILE = "admin_token"  # noqa: S105 - a file name, not a secret
# Where a running `serve` tells other commands (rebuild, watch …) its embedded servers.
SERVERS_FILE = "servers.json"


def with_running_servers(settings: Settings) -> Settings:
    """Fill unset URLs from the embedded servers of a `serve` running in the data dir."""
    if not settings.embedded_needed:
        return settings
    path = settings.data_dir / SERVERS_FILE
    try:
        urls = msgspec.json.decode(path.read_bytes(), type=dict[str, str])
    except (OSError, msgspec.DecodeError):
        return settings
    updates = {k: v for k, v in urls.items() if getattr(settings, k, "") is None}
    return msgspec.structs.replace(settings, **updates)


@dataclass
class Runtime:
    """Settings with every URL and the admin token filled in, plus what to tell the user."""

    settings: Settings
    notes: list[tuple[str, str]] = field(default_factory=list)


def load_or_create_admin_token(data_dir: Path) -> tuple[str, bool]:
    """The admin token kept in the data directory, created (0600) on first use."""
    path = data_dir / ADMIN_TOKEN_FILE
    if path.exists():
        return path.read_text().strip(), False
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token, True


def describe_url(url: str) -> str:
    """``scheme://host:port/db`` without user or password, for printing."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@contextmanager
def dependencies(settings: Settings) -> Iterator[Runtime]:
    """Start what the settings leave unset (embedded servers, admin token); stop it after."""
    with ExitStack() as stack:
        data_dir = settings.data_dir
        updates: dict[str, str] = {}
        notes: list[tuple[str, str]] = []
        supervised: list[Supervised] = []
        if settings.embedded_needed:
            stack.enter_context(DataDirLock(data_dir))
        if settings.database_url is None:
            postgres = EmbeddedPostgres(data_dir)
            postgres.start()
            stack.callback(postgres.stop)
            supervised.append(postgres)
            updates["database_url"] = postgres.url
            notes.append(("Postgres", f"embedded 18, {postgres.url} (data in {postgres.pgdata})"))
        else:
            notes.append(("Postgres", describe_url(settings.database_url)))
        if settings.redis_url is None:
            valkey = EmbeddedValkey(data_dir)
            valkey.start()
            # Registered after Postgres, so it stops first: the app's writes end before either.
            stack.callback(valkey.stop)
            supervised.append(valkey)
            updates["redis_url"] = valkey.url
            notes.append(
                ("Redis", f"embedded Valkey 8, {valkey.url} (append-only file in {valkey.dir})")
            )
        else:
            notes.append(("Redis", describe_url(settings.redis_url)))
        if supervised:
            # Entered last, so it stops first: nothing is restarted while stopping.
            stack.enter_context(Supervisor(supervised))
        if updates:
            servers = data_dir / SERVERS_FILE
            servers.write_bytes(msgspec.json.encode(updates))
            stack.callback(servers.unlink, missing_ok=True)
        if settings.admin_token is None:
            token, created = load_or_create_admin_token(data_dir)
            updates["admin_token"] = token
            where = data_dir / ADMIN_TOKEN_FILE
            if created and sys.stdout.isatty():
                notes.append(("Admin token", f"{token}  (generated now, kept in {where})"))
            elif created:
                # Output that is not a terminal is often kept (container logs, files): the
                # token would outlive the moment and reach whoever reads the logs.
                notes.append(
                    (
                        "Admin token",
                        f"generated now, kept in {where}  (not printed: the output is not "
                        "a terminal; cat the file)",
                    )
                )
            else:
                notes.append(
                    (
                        "Admin token",
                        f"in {where}  (cat it; set {env_name('admin_token')} to choose one)",
                    )
                )
        else:
            notes.append(("Admin token", f"from {env_name('admin_token')}"))
        yield Runtime(msgspec.structs.replace(settings, **updates), notes)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(settings: Settings, *, workers: int = 1) -> None:
    """Run the service until Ctrl-C or SIGTERM; embedded servers stop with it."""
    # SIGTERM unwinds like Ctrl-C, so every `finally` below runs and stops the servers.
    # uvicorn installs its own handlers while it serves and restores this one after.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    # The port first: a taken port is found before anything starts, and holding it from
    # now on means nobody takes it while the servers start and the migrations run.
    with (
        bind_http_socket(settings.host, settings.port) as listener,
        dependencies(settings) as runtime,
        metrics_files(runtime.settings, workers) as ready,
    ):
        assert ready.database_url is not None
        applied = asyncio.run(apply_migrations(ready.database_url, timeout=ready.db_timeout))
        runtime.notes.append(("Migrations", describe_migrations(applied, discover())))
        _print_banner(ready, runtime.notes, workers)
        _run_uvicorn(ready, workers, listener)


@contextmanager
def metrics_files(settings: Settings, workers: int) -> Iterator[Settings]:
    """Where the workers keep their metrics, so that ``/metrics`` adds them all up.

    ``PROMETHEUS_MULTIPROC_DIR`` when it is set (emptied first: an earlier run's files would
    count again); with several workers and none set, a temporary directory, removed after.
    One worker without it counts in memory, as before.
    """
    if settings.metrics_dir is None and workers == 1:
        yield settings
        return
    made = None
    if settings.metrics_dir is None:
        made = Path(tempfile.mkdtemp(prefix="leaderboard-metrics-"))
    metrics_dir = settings.metrics_dir or made
    assert metrics_dir is not None
    clear_metrics_dir(metrics_dir)
    try:
        yield msgspec.structs.replace(settings, metrics_dir=metrics_dir)
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def describe_migrations(applied: list[Migration], known: list[Migration]) -> str:
    """The banner's migrations line: what this start applied, or that none was due."""
    if not applied:
        latest = f" (latest {_label(known[-1])})" if known else ""
        return f"up to date{latest}"
    if len(applied) == 1:
        return f"1 applied: {_label(applied[0])}"
    return f"{len(applied)} applied: {_label(applied[0])} … {_label(applied[-1])}"


def _label(migration: Migration) -> str:
    return f"{migration.version:04d}_{migration.name}"


class ServeError(RuntimeError):
    """The HTTP server could not start (for example: the port is taken)."""


_BIND_PROBLEMS = {
    errno.EADDRINUSE: "the port is taken (address already in use); stop what uses it, or "
    f"choose another port with --port or {env_name('port')}",
    errno.EADDRNOTAVAIL: "this machine has no such address; choose another with --host or "
    f"{env_name('host')}",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
}


def bind_http_socket(host: str, port: int) -> socket.socket:
    """The listening address, bound (as uvicorn binds it); ServeError when it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a port whose last connections linger in TIME_WAIT is free to use.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except socket.gaierror as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: unknown host ({exc.strerror})") from None
    except OSError as exc:
        sock.close()
        problem = _BIND_PROBLEMS.get(exc.errno or 0, exc.strerror or str(exc))
        raise ServeError(f"cannot listen on {host}:{port}: {problem}") from None
    # Worker processes (--workers) receive it: uvicorn's Multiprocess hands it on.
    sock.set_inheritable(True)
    return sock


def _run_uvicorn(settings: Settings, workers: int, listener: socket.socket) -> None:
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        # httptools plus a request-head deadline (LEADERBOARD_HTTP_HEADER_TIMEOUT_SECONDS) and
        # a drain notice that ends SSE streams on shutdown (docs/events.md). An import string,
        # so that --workers processes load it too.
        "http": "leaderboard.lib.http_limits:LimitedHttpToolsProtocol",
        "lifespan": "on",
        "access_log": False,
        "log_level": settings.log_level.lower(),
        "timeout_graceful_shutdown": 10,
        "server_header": False,
        "ws_per_message_deflate": settings.ws_compression,
        # Events framed once for every subscriber (lib/ws_frames.py).
        "ws": "leaderboard.lib.ws_frames:FramedWebSocketProtocol",
        "log_config": None,  # keep the process' logging (leaderboard/lib/logs.py)
    }
    if workers == 1:
        server = uvicorn.Server(uvicorn.Config(create_app(settings), **common))
        server.run(sockets=[listener])
        if not server.started:
            raise ServeError(
                f"the HTTP server did not start on {settings.host}:{settings.port} "
                "(see the log above)"
            )
        return
    # Worker processes build their own app from the environment: hand them the URLs
    # and the token this process resolved.
    for name in ("database_url", "redis_url", "admin_token", "metrics_dir"):
        value = getattr(settings, name)
        if value is not None:
            os.environ[env_name(name)] = str(value)
    config = uvicorn.Config(
        "leaderboard.server.app:create_app_from_env", factory=True, workers=workers, **common
    )
    # What uvicorn.run does for several workers, with the socket bound before start-up.
    Multiprocess(config, sockets=[listener]).run()


def connectable(host: str) -> str:
    """An address to reach a server listening on ``host`` (any-address means this machine)."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - a comparison, not a bind
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def demo_command(settings: Settings) -> str:
    """How to run the demo against this service.

    With ``--url`` unless the service is where the demo looks by default (the defaults of
    ``LEADERBOARD_HOST`` and ``LEADERBOARD_PORT``, which another terminal may not have set).
    """
    command = "uv run leaderboard demo"
    defaults = Settings()
    if (settings.host, settings.port) != (defaults.host, defaults.port):
        command += f" --url http://{connectable(settings.host)}:{settings.port}"
    return command


def _print_banner(settings: Settings, notes: list[tuple[str, str]], workers: int) -> None:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        f"Leaderboard service {__version__}",
        f"  {'API':<12} {base}  ({workers} worker{'s' if workers > 1 else ''})",
        f"  {'API docs':<12} {base}{OPENAPI_PATH}  (OpenAPI: {base}{OPENAPI_PATH}/openapi.json)",
        *(f"  {label:<12} {text}" for label, text in notes),
        f"Try it: `{demo_command(settings)}` in another terminal fills a demo board, then",
        f"  watch it at {base}/boards/demo or with `uv run leaderboard watch demo`.",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), file=sys.stdout, flush=True)
