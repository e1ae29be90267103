"""The TypeScript client's package: its types are the service's, its README compiles, and
it installs as the README says.

clients/typescript/src/generated/ holds what openapi-typescript makes of the service's
OpenAPI document (openapi.ts) and of its event schemas (events.ts); the client's requests
are typed by them (src/http.ts: a path, parameter or field the document lacks is a
compile error). Here both documents are built from the app as `serve` builds it, the
types generated again, and compared with the committed ones, so the client cannot drift
from the service. After a change to the API, refresh them with
`LEADERBOARD_UPDATE_CLIENT_TYPES=1 uv run pytest tests/clients/test_typescript_package.py`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.clients.npm import run
from tests.documents import events_document, openapi_document

UPDATE = os.environ.get("LEADERBOARD_UPDATE_CLIENT_TYPES") == "1"
REFRESH = "LEADERBOARD_UPDATE_CLIENT_TYPES=1 uv run pytest tests/clients/test_typescript_package.py"


def test_the_generated_types_are_current(npm_package: Path, tmp_path: Path) -> None:
    generated = npm_package / "src" / "generated"
    for name, document in (("openapi", openapi_document()), ("events", events_document())):
        source = tmp_path / f"{name}.json"
        source.write_text(json.dumps(document, indent=2))
        fresh = tmp_path / f"{name}.ts"
        run("node_modules/.bin/openapi-typescript", str(source), "-o", str(fresh))
        committed = generated / fresh.name
        if UPDATE:
            committed.write_text(fresh.read_text())
        assert committed.read_text() == fresh.read_text(), (
            f"{committed} is not what the service's document gives: refresh it with {REFRESH}"
        )


def test_the_readme_typescript_compiles(npm_package: Path, tmp_path: Path) -> None:
    """Each ```ts block of the client's README and the service's, type-checked against
    the client's sources."""
    readmes = (npm_package / "README.md", npm_package.parents[1] / "README.md")
    blocks = [
        block
        for readme in readmes
        for block in re.findall(r"```ts\n(.*?)```", readme.read_text(), flags=re.DOTALL)
    ]
    assert len(blocks) >= 3
    for number, block in enumerate(blocks):
        (tmp_path / f"readme_{number}.ts").write_text(block)
    config = {
        "extends": str(npm_package / "tsconfig.json"),
        "compilerOptions": {
            "rootDir": "/",
            "noEmit": True,
            "noUnusedLocals": False,
            "paths": {"@leaderboard/client": [str(npm_package / "src" / "index.ts")]},
        },
        "include": [str(tmp_path / "*.ts")],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))
    run("node_modules/.bin/tsc", "-p", str(tmp_path / "tsconfig.json"))


def test_the_package_installs_as_the_readme_says(npm_package: Path, tmp_path: Path) -> None:
    """`npm pack` builds it (`prepare`: strict tsc, declarations); a game installs the
    tarball (no registry: it has no dependencies) and imports it by name."""
    run("npm", "pack", "--silent", "--pack-destination", str(tmp_path))
    (tarball,) = tmp_path.glob("leaderboard-client-*.tgz")
    listed = subprocess.run(
        ["tar", "-tzf", str(tarball)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "package/dist/index.js" in listed
    assert "package/dist/index.d.ts" in listed
    assert not [name for name in listed if name.startswith(("package/src", "package/node_"))]
    game = tmp_path / "game"
    game.mkdir()
    (game / "package.json").write_text('{"name": "game", "private": true, "type": "module"}')
    install = ["npm", "install", "--offline", "--no-audit", "--no-fund", str(tarball)]
    subprocess.run(install, cwd=game, capture_output=True, text=True, check=True, timeout=120)
    imported = subprocess.run(
        ["node", "--input-type=module", "-e", PROBE],
        cwd=game,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(imported.stdout) == {
        "client": "function",
        "limited": "function",
        "key": 32,
        "declared": True,
    }


PROBE = """
import { LeaderboardClient, RateLimitedError, newIdempotencyKey } from "@leaderboard/client";
import { readFileSync } from "node:fs";
const declared = readFileSync("node_modules/@leaderboard/client/dist/index.d.ts", "utf8");
console.log(JSON.stringify({
  client: typeof LeaderboardClient, limited: typeof RateLimitedError,
  key: newIdempotencyKey().length, declared: declared.includes("LeaderboardClient"),
}));
"""
