"""A Python client generated from the served OpenAPI document walks the README through.

Studios generate their clients (C#, GDScript, Python) from /schema/openapi.json: a
document a generator cannot read, or that parses an error into nothing, breaks them.
openapi-python-client (a dev dependency: no download, no network) generates a package
from the document `serve` answers with, without any warning; the package is imported and
drives a real service: the README's walk-through, then its errors, each parsed into the
generated ErrorBody (`parsed` must never be None: that is an undocumented answer). The
client raises on undocumented statuses (raise_on_unexpected_status), so every status
met here is one the document lists.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_ADMIN_TOKEN
from tests.procs import RunningService

pytestmark = pytest.mark.slow

PACKAGE = "leaderboard_client"


class Generated:
    """The generated package: ``api("leaderboards", "get_top")``, ``model("ErrorBody")``."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.package = importlib.import_module(PACKAGE)
        self._models = importlib.import_module(f"{PACKAGE}.models")
        self._clients: list[Any] = []

    def api(self, tag: str, operation: str) -> ModuleType:
        """The module of one operation: its module name is the operation id, snake_cased."""
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")

    def model(self, name: str) -> Any:
        return getattr(self._models, name)

    def anonymous(self) -> Any:
        return self._keep(self.package.Client(base_url=self.base, raise_on_unexpected_status=True))

    def with_token(self, token: str) -> Any:
        return self._keep(
            self.package.AuthenticatedClient(
                base_url=self.base, token=token, raise_on_unexpected_status=True
            )
        )

    def _keep(self, client: Any) -> Any:
        self._clients.append(client)
        return client

    def close(self) -> None:
        """Close the clients' connections (left open, they are unclosed-socket warnings)."""
        for client in self._clients:
            client.__exit__()
        self._clients.clear()


def generate(document: Path, into: Path) -> str:
    """Run openapi-python-client; what it printed."""
    # Its post-hooks format the package with ruff, found on PATH: this environment's.
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "openapi_python_client", "generate"]
    options = ["--path", str(document), "--meta", "none", "--output-path", str(into)]
    result = subprocess.run(
        [*command, *options],
        cwd=into.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    return output


@pytest.fixture(scope="module")
def generated(
    contract_service: RunningService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Generated]:
    root = tmp_path_factory.mktemp("generated")
    document = root / "openapi.json"
    document.write_bytes(httpx.get(f"{contract_service.base}/schema/openapi.json").content)
    output = generate(document, root / PACKAGE)
    # Nothing but its one line: any warning (a schema it cannot read, a response it leaves
    # out, a skipped formatter) would be printed here.
    assert output == f"Generating {root / PACKAGE}", output
    sys.path.insert(0, str(root))
    client = Generated(contract_service.base)
    try:
        yield client
    finally:
        client.close()
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def new_board(client: Generated, **spec: Any) -> str:
    board_id = f"gen-{uuid.uuid4().hex[:10]}"
    body = client.model("BoardCreate")(id=board_id, **spec)
    created = client.api("leaderboards", "create_leaderboard").sync_detailed(
        client=client.with_token(TEST_ADMIN_TOKEN), body=body
    )
    assert created.status_code == 201, created.content
    assert created.parsed.id == board_id
    return board_id


def sign_in(client: Generated, name: str) -> tuple[str, str]:
    """A new device's player id and token, through the generated client."""
    body = client.model("DeviceAuthRequest")(device_id=f"device-{uuid.uuid4()}", display_name=name)
    answer = client.api("auth", "sign_in_device").sync_detailed(
        client=client.anonymous(), body=body
    )
    assert answer.status_code == 200, answer.content
    assert int(answer.headers["RateLimit-Limit"]) > 0
    return answer.parsed.player_id, answer.parsed.token


def test_the_readme_walk_through(generated: Generated) -> None:
    health = generated.api("health", "health").sync(client=generated.anonymous())
    assert health.status == "ok"
    ready = generated.api("health", "ready").sync(client=generated.anonymous())
    assert ready.status == "ok"

    reset = generated.model("BoardCreateReset").WEEKLY  # an enum named after its field
    limit = generated.model("RateLimitConfig")(limit=30, window_seconds=60)
    board = new_board(generated, reset=reset, rate_limit=limit)
    listed = generated.api("leaderboards", "list_leaderboards").sync(client=generated.anonymous())
    assert board in [b.id for b in listed.leaderboards]

    ada, ada_token = sign_in(generated, "Ada")
    grace, grace_token = sign_in(generated, "Grace")
    me = generated.api("players", "get_me").sync(client=generated.with_token(ada_token))
    assert (me.player_id, me.display_name) == (ada, "Ada")
    patch = generated.model("ProfilePatch")(country="GB")
    changed = generated.api("players", "update_profile").sync(
        ada, client=generated.with_token(ada_token), body=patch
    )
    assert changed.country == "GB"

    submit = generated.api("leaderboards", "submit_score")
    score = generated.model("ScoreSubmission")
    first = submit.sync_detailed(
        board, client=generated.with_token(ada_token), body=score(score=1200)
    )
    assert first.status_code == 200
    assert (first.parsed.rank, first.parsed.previous_rank) == (1, None)
    assert first.headers["RateLimit-Remaining"]
    again = submit.sync_detailed(
        board,
        client=generated.with_token(grace_token),
        body=score(score=1500),
        idempotency_key=f"key-{uuid.uuid4()}",
    )
    assert again.parsed.rank == 1

    anonymous = generated.anonymous()
    top = generated.api("leaderboards", "get_top").sync(board, client=anonymous, limit=10)
    assert [(e.display_name, e.score) for e in top.entries] == [("Grace", 1500), ("Ada", 1200)]
    assert top.total == 2
    entry = generated.api("leaderboards", "get_entry").sync(board, ada, client=anonymous)
    assert (entry.rank, entry.to_next) == (2, 301)  # ties go to who reached it first
    around = generated.api("leaderboards", "get_around").sync(
        board, ada, client=anonymous, radius=5
    )
    assert [e.player_id for e in around.entries] == [grace, ada]
    friends = generated.api("leaderboards", "get_players").sync(
        board, client=anonymous, ids=f"{ada},{grace}"
    )
    assert [e.rank for e in friends.entries] == [1, 2]
    histogram = generated.api("leaderboards", "get_histogram").sync(
        board, client=anonymous, buckets=2
    )
    assert sum(b.count for b in histogram.buckets) == 2
    previous = generated.api("leaderboards", "get_top").sync(
        board, client=anonymous, period="previous"
    )
    assert previous.entries == []

    # The board's rules change later (README, "Game servers").
    rules = generated.model("BoardPatch")(max_score=6000, name="Weekly race")
    changed_board = generated.api("leaderboards", "update_leaderboard").sync(
        board, client=generated.with_token(TEST_ADMIN_TOKEN), body=rules
    )
    assert (changed_board.max_score, changed_board.name) == (6000, "Weekly race")

    ended = generated.api("auth", "end_session").sync_detailed(
        client=generated.with_token(ada_token)
    )
    assert ended.status_code == 204
    gone = generated.api("players", "get_me").sync_detailed(client=generated.with_token(ada_token))
    assert gone.status_code == 401


def error_of(response: Any, status: int) -> Any:
    """The answer's parsed ErrorBody, checked against its status."""
    assert response.status_code == status, response.content
    error = response.parsed
    assert error is not None, "an error the client could not parse"
    assert type(error).__name__ == "ErrorBody"
    assert error.status_code == status
    assert error.detail
    return error


def test_errors_parse_into_the_error_model(generated: Generated) -> None:
    unset = generated.package.types.Unset
    board = new_board(generated, rate_limit=generated.model("RateLimitConfig")(limit=1))
    player, token = sign_in(generated, "Lin")

    # 400 from the service (one problem) and from Litestar's validation (every problem).
    patch = generated.model("ProfilePatch")(country="XX")
    refused = generated.api("players", "update_profile").sync_detailed(
        player, client=generated.with_token(token), body=patch
    )
    error = error_of(refused, 400)
    assert error.field == "country"
    assert [(p.field, p.message) for p in error.errors] == [
        ("country", "'XX' is not an ISO 3166-1 alpha-2 code")
    ]
    assert isinstance(error.dependency, unset)
    # The generated client sends what it is given; the service names every bad parameter.
    bad_page = generated.api("leaderboards", "get_top").sync_detailed(
        board, client=generated.anonymous(), limit=0, offset=-1
    )
    error = error_of(bad_page, 400)
    assert error.field == "limit"
    assert [p.field for p in error.errors] == ["limit", "offset"]

    # 401: a token the service does not know.
    unknown = generated.api("players", "get_me").sync_detailed(
        client=generated.with_token("not-a-token")
    )
    error = error_of(unknown, 401)
    assert unknown.headers["WWW-Authenticate"] == "Bearer"
    assert isinstance(error.field, unset)

    # 404: no such board.
    missing = generated.api("leaderboards", "get_leaderboard").sync_detailed(
        "no-such-board", client=generated.anonymous()
    )
    assert "no-such-board" in error_of(missing, 404).detail

    # 409: the id exists.
    twice = generated.api("leaderboards", "create_leaderboard").sync_detailed(
        client=generated.with_token(TEST_ADMIN_TOKEN),
        body=generated.model("BoardCreate")(id=board),
    )
    error_of(twice, 409)

    # 429: over the board's limit of one submission a minute, with Retry-After.
    submit = generated.api("leaderboards", "submit_score")
    body = generated.model("ScoreSubmission")(score=1)
    assert submit.sync_detailed(board, client=generated.with_token(token), body=body).parsed.rank
    throttled = submit.sync_detailed(board, client=generated.with_token(token), body=body)
    error_of(throttled, 429)
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.headers["RateLimit-Remaining"] == "0"
