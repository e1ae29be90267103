"""The ``leaderboard`` command line. Commands parse options and call a module that does the work."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click
import msgspec

from leaderboard import __version__
from leaderboard.lib.errors import DependencyUnavailableError, NotFoundError
from leaderboard.lib.logs import configure_logging
from leaderboard.lib.settings import Settings, SettingsError, env_name
from leaderboard.ops.embedded import EmbeddedServerError
from leaderboard.ops.migrations import MigrationError, apply_migrations


def _process_start() -> float:
    """When this process started, on the ``time.monotonic()`` clock.

    `watch` prints the events from then on, so even those submitted while Python was
    still importing count. Linux tells the start in /proc, in clock ticks (10 ms) since
    boot, so an event from up to a tick before the start may be printed too; elsewhere,
    the import of this module is close enough.
    """
    now = time.monotonic()
    try:
        stat = Path("/proc/self/stat").read_text()
        # Field 22 (starttime) counted after the command name, which may hold spaces.
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
    except (OSError, ValueError, IndexError, AttributeError):
        return now
    age = since_boot - ticks / os.sysconf("SC_CLK_TCK")
    return now - age if 0 <= age < 60 else now


STARTED = _process_start()

CONFIG_HELP = """
Configuration comes from the environment (see README.md):
LEADERBOARD_DATABASE_URL, LEADERBOARD_REDIS_URL, LEADERBOARD_REDIS_CLUSTER,
LEADERBOARD_ADMIN_TOKEN, LEADERBOARD_DATA_DIR, LEADERBOARD_HOST, LEADERBOARD_PORT.
"""


def _fail(message: str | BaseException) -> NoReturn:
    """One line on stderr and exit 2; an operator sees a driver's own words too."""
    if isinstance(message, BaseException):
        cause = message.__cause__
        message = f"{message} ({cause})" if cause is not None else str(message)
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _load_settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        _fail(exc)


def _setup_logging(settings: Settings) -> None:
    configure_logging(settings.log_level)


@click.group(help="Game leaderboard and player-profile service." + CONFIG_HELP)
@click.version_option(__version__, prog_name="leaderboard")
def main() -> None:
    pass


@main.command(epilog=CONFIG_HELP)
@click.option("--host", help=f"Address to listen on [default: {env_name('host')} or 127.0.0.1].")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help=f"Port to listen on [default: {env_name('port')} or 8000].",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes sharing the port.",
)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Apply migrations, then serve the HTTP API.

    With LEADERBOARD_DATABASE_URL / LEADERBOARD_REDIS_URL unset, starts an embedded
    Postgres and an embedded Valkey with their data in LEADERBOARD_DATA_DIR, and stops
    them again on Ctrl-C or SIGTERM.
    """
    from leaderboard.ops import serve as serving  # imports uvicorn; keep `--help` fast

    settings = _load_settings()
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = msgspec.structs.replace(settings, **overrides)
    _setup_logging(settings)
    try:
        serving.serve(settings, workers=workers)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    except (
        EmbeddedServerError,
        DependencyUnavailableError,
        MigrationError,
        serving.ServeError,
    ) as exc:
        _fail(exc)


def _settings_with_servers() -> Settings:
    """Settings whose URLs are set, from the environment or a running embedded `serve`."""
    from leaderboard.ops.serve import with_running_servers

    settings = with_running_servers(_load_settings())
    if settings.database_url is None or settings.redis_url is None:
        _fail(
            f"set {env_name('database_url')} and {env_name('redis_url')}, or start "
            "`leaderboard serve` (its embedded servers are used while it runs)"
        )
    return settings


@main.command(epilog=CONFIG_HELP)
@click.argument("leaderboard_id", required=False)
def rebuild(leaderboard_id: str | None) -> None:
    """Rebuild Redis leaderboard indexes from Postgres (all boards by default).

    Streams each board's current period (and, on resetting boards, the previous one) in
    batches into a temporary key and swaps it in atomically; the service keeps serving
    meanwhile.
    """
    from rich.progress import Progress

    from leaderboard.ops.maintenance import rebuild_indexes

    settings = _settings_with_servers()
    _setup_logging(msgspec.structs.replace(settings, log_level="warning"))
    with Progress(transient=False) as bar:

        def progress(board_id: str, period: str) -> Callable[[int, int], None]:
            task = bar.add_task(f"{board_id} ({period})", total=None)

            def update(done: int, total: int) -> None:
                if total == 0:  # an empty period is done as soon as it starts
                    bar.update(task, completed=1, total=1)
                else:
                    bar.update(task, completed=done, total=total)

            return update

        try:
            done = asyncio.run(rebuild_indexes(settings, leaderboard_id, progress))
        except (DependencyUnavailableError, NotFoundError) as exc:
            _fail(exc)
    for board_id, period, entries in done:
        if entries < 0:
            click.echo(f"{board_id} ({period}): another rebuild is running; skipped")
        else:
            click.echo(f"{board_id} ({period}): {entries} entries")
    if not done:
        click.echo("no leaderboards")


def _announce(message: str) -> None:
    """A status line on stderr, unless stderr is the same file or pipe as stdout.

    stdout carries JSON lines only; with ``2>&1`` into a file or a pipe (``| jq``) a
    status line among them would break the reader. At a terminal both show.
    """
    try:
        out, err = os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno())
        mixed = (out.st_dev, out.st_ino) == (err.st_dev, err.st_ino)
        if mixed and not sys.stderr.isatty():
            return
    except (OSError, ValueError):
        pass  # not real files (tests capturing output): say it
    click.echo(message, err=True)


@main.command(epilog=CONFIG_HELP)
@click.argument("leaderboard_id")
@click.option("--from-start", is_flag=True, help="First print the events the board still keeps.")
def watch(leaderboard_id: str, from_start: bool) -> None:
    """Print each rank-change event of a leaderboard as one JSON line, until Ctrl-C.

    Events submitted from the moment the command starts are printed, even those that
    arrive while it connects; it says on stderr when it listens.
    """
    from leaderboard.events.watch import watch as watch_events
    from leaderboard.ops.maintenance import require_board
    from leaderboard.ops.serve import with_running_servers

    settings = _settings_with_servers()
    given = _load_settings()

    def relocate() -> str | None:
        """Where a restarted embedded `serve` put Valkey (it may be another port)."""
        return None if given.redis_url is not None else with_running_servers(given).redis_url

    _setup_logging(msgspec.structs.replace(settings, log_level="warning"))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how watching ends
        try:
            asyncio.run(require_board(settings, leaderboard_id))
        except (DependencyUnavailableError, NotFoundError) as exc:
            _fail(exc)
        asyncio.run(
            watch_events(
                settings,
                leaderboard_id,
                from_start=from_start,
                emit=click.echo,
                announce=_announce,
                started=STARTED,
                relocate=relocate,
            )
        )


@main.command(epilog=CONFIG_HELP)
@click.option("--url", help="The service's base URL [default: from LEADERBOARD_HOST/PORT].")
@click.option("--board", default="demo", show_default=True, help="Board id to fill.")
@click.option(
    "--players",
    type=click.IntRange(1, 10_000),
    default=300,
    show_default=True,
    help="Players on the board (created through the API; a board from an earlier run "
    "keeps its players).",
)
@click.option(
    "--rate",
    type=click.FloatRange(0.1, 1000),
    default=5.0,
    show_default=True,
    help="Scores per second after the first fill.",
)
@click.option(
    "--duration",
    type=click.FloatRange(0),
    default=None,
    help="Stop after submitting for this many seconds once the board is full "
    "[default: until Ctrl-C].",
)
def demo(url: str | None, board: str, players: int, rate: float, duration: float | None) -> None:
    """Fill a demo board through the running service, then keep submitting scores.

    Start `leaderboard serve` first; then watch the board at /boards/demo, with
    `leaderboard watch demo`, or over SSE.
    """
    from rich.progress import Progress

    from leaderboard.ops.demo import DemoError, run_demo
    from leaderboard.ops.serve import ADMIN_TOKEN_FILE, connectable

    settings = _load_settings()
    token = settings.admin_token
    if token is None:
        try:
            token = (settings.data_dir / ADMIN_TOKEN_FILE).read_text().strip()
        except OSError:
            _fail(
                f"no admin token: set {env_name('admin_token')}, or run the demo in the "
                f"directory where `leaderboard serve` runs (it keeps the token in "
                f"{settings.data_dir / ADMIN_TOKEN_FILE})"
            )
    base = url or f"http://{connectable(settings.host)}:{settings.port}"
    with Progress() as bar:
        task = bar.add_task(f"players of board {board!r}", total=players)

        def show(done: int, total: int, reused: int) -> None:
            """What the bar is doing: reusing an earlier run's players, creating the rest."""
            created = total - reused
            if created <= 0:
                doing = f"reusing {reused} players"
            elif reused:
                doing = f"reusing {reused} players, creating {created}"
            else:
                doing = f"creating {total} players"
            bar.update(task, completed=done, total=total, description=doing)

        try:
            submitted = asyncio.run(
                run_demo(
                    base,
                    token,
                    board_id=board,
                    players=players,
                    rate=rate,
                    duration=duration,
                    progress=show,
                    log=bar.console.print,
                )
            )
        except KeyboardInterrupt:
            return
        except DemoError as exc:
            bar.stop()
            _fail(str(exc))
    click.echo(f"submitted {submitted} scores")


@main.command(epilog=CONFIG_HELP)
def migrate() -> None:
    """Apply pending migrations to LEADERBOARD_DATABASE_URL and exit."""
    settings = _load_settings()
    _setup_logging(settings)
    if settings.database_url is None:
        _fail(
            f"{env_name('database_url')} is not set; `leaderboard serve` migrates its embedded "
            "Postgres by itself"
        )
    try:
        applied = asyncio.run(apply_migrations(settings.database_url, timeout=settings.db_timeout))
    except (DependencyUnavailableError, MigrationError) as exc:
        _fail(exc)
    if applied:
        for migration in applied:
            click.echo(f"applied {migration.version:04d}_{migration.name}")
    else:
        click.echo("database is up to date")
