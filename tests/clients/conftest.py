from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.npm import install, run


@pytest.fixture(scope="session")
def npm_package() -> Path:
    """clients/typescript with node_modules installed."""
    return install()


@pytest.fixture(scope="session")
def built_example(npm_package: Path) -> Path:
    """The package directory, with the example game built as its README says (`npm run
    build:example`: build/example, build/src; ignored by git), to be served as a site.
    Type errors anywhere in the client or the example fail here."""
    run("npm", "run", "--silent", "build:example")
    return npm_package
