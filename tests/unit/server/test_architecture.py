"""The package's structure, as docs/architecture.md draws it, checked against its imports.

Folders point one way (no cycle between feature folders), ``lib/`` knows no feature, no
feature imports the wiring, and nothing outside ``ranking/`` reaches behind the index's
façade. The arrows in docs/architecture.md are compared with the imports, so the drawing
cannot drift: when this fails after a change, the message gives the block to paste.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest
from litestar.di import Dependency

from leaderboard.lib.db import Database
from leaderboard.lib.keys import Keys
from tests.paths import REPO

ROOT = REPO
PACKAGE = ROOT / "leaderboard"
DOC = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- arrows: begin -->", "<!-- arrows: end -->"
# Layers around the features: wiring and commands may import anything.
OUTER = {"server", "ops"}
# What other folders may import of ranking/: the façade and the HTTP surface.
RANKING_DOORS = {"index", "models", "deps", "feature", "controller"}


def imports() -> list[tuple[Path, str]]:
    """(importing file, imported module) for every ``leaderboard.*`` import in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("leaderboard."):
                found.append((path, str(node.module)))
            elif isinstance(node, ast.Import):
                found += [(path, a.name) for a in node.names if a.name.startswith("leaderboard.")]
    return found


def folder_of(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def folder_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path, module in imports():
        source, target = folder_of(path), module.split(".")[1]
        if source is not None and target != source:
            graph[source].add(target)
    return graph


def test_no_cycle_between_folders() -> None:
    graph = folder_graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
                pytest.fail("folders import each other: " + " → ".join(cycle))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for folder in sorted(graph):
        if folder not in state:
            visit(folder, [folder])


def test_lib_knows_no_feature_and_features_never_import_the_wiring() -> None:
    for source, targets in folder_graph().items():
        if source == "lib":
            assert targets == set(), f"lib/ imports {sorted(targets)}"
        elif source not in OUTER:
            assert not targets & OUTER, f"{source}/ imports {sorted(targets & OUTER)}"
    plugin_users = {
        path.relative_to(PACKAGE).as_posix()
        for path, module in imports()
        if module == "leaderboard.server.plugin"
    }
    assert plugin_users == {"server/app.py"}


def test_only_the_facade_of_the_index_is_used_outside_ranking() -> None:
    reaches = [
        f"{path.relative_to(PACKAGE).as_posix()} imports {module}"
        for path, module in imports()
        if module.startswith("leaderboard.ranking.")
        and folder_of(path) not in {"ranking", *OUTER}
        and module.split(".")[2] not in RANKING_DOORS
    ]
    assert reaches == []


def drawn_arrows() -> str:
    graph = folder_graph()
    width = max(len(folder) for folder in graph)
    return "\n".join(
        f"{folder.ljust(width)} → {', '.join(sorted(graph[folder] - {'lib'})) or '(lib only)'}"
        for folder in sorted(graph)
        if folder not in OUTER
    )


def test_the_architecture_doc_draws_every_arrow() -> None:
    text = DOC.read_text()
    assert BEGIN in text
    assert END in text
    drawn = text.split(BEGIN, 1)[1].split(END, 1)[0].strip().strip("`").strip()
    expected = drawn_arrows()
    assert drawn == expected, f"docs/architecture.md should read, between the markers:\n{expected}"


def test_every_named_dependency_has_its_provider() -> None:
    """A handler's ``name: NamedDependency[Kind]`` finds a feature providing ``name`` as Kind."""
    from leaderboard.lib.settings import Settings
    from leaderboard.server.app import create_app
    from leaderboard.server.features import FEATURES

    provided: dict[str, type] = {"db": Database, "keys": Keys, "settings": Settings}
    for feature in FEATURES:
        for offer in feature.provides:
            assert offer.name not in provided, f"{offer.name!r} is provided twice"
            provided[offer.name] = offer.kind
    app = create_app(Settings(database_url="postgresql://u@127.0.0.1/x", redis_url="redis://x"))
    asked = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", [getattr(route, "route_handler", None)]):
            if handler is None:
                continue
            for name, field in handler.parsed_fn_signature.parameters.items():
                if not any(isinstance(mark, Dependency) for mark in field.metadata):
                    continue
                kind = field.annotation
                asked += 1
                if name == "redis":
                    continue  # Redis | RedisCluster: not a class to compare
                assert name in provided, f"{handler.handler_name} asks for {name!r}: no provider"
                assert provided[name] is kind, (handler.handler_name, name, kind)
    assert asked > 20
