"""The API docs pages in Chromium with no network but this machine's: they must render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.helpers import wait_until
from tests.pages import offline, problems
from tests.procs import server_fixture

pytestmark = pytest.mark.slow


server = server_fixture("docs")


def operations(base: str) -> list[dict[str, Any]]:
    """Every operation of the OpenAPI document, each with its tag and summary."""
    document = httpx.get(f"{base}/schema/openapi.json").json()
    return [
        {"path": path, "method": method, "tag": op["tags"][0], "summary": op["summary"]}
        for path, item in document["paths"].items()
        for method, op in item.items()
    ]


def test_scalar_renders_the_operations_without_internet(server: str, page: Page) -> None:
    refused = offline(page)
    seen = problems(page)
    # A deep link to an operation, as the docs' own links are.
    page.goto(f"{server}/schema#tag/players/POST/v1/players")
    heading = page.get_by_role("heading", name="Create a player (admin)", level=3)
    expect(heading).to_be_visible(timeout=20_000)
    ops = operations(server)
    assert len(ops) > 15
    # Every operation is in the sidebar, under its tag, by its summary.
    page.get_by_role("button", name="Open Menu").click()
    sidebar = page.get_by_role("complementary")
    for tag in sorted({op["tag"] for op in ops}):
        expect(sidebar.get_by_role("link", name=tag, exact=True)).to_be_visible()
        opener = sidebar.get_by_role("button", name=f"Open Group - {tag}", exact=True)
        if opener.count():  # the deep link opened "players" already
            opener.click()
        for op in ops:
            if op["tag"] == tag:
                link = sidebar.get_by_role("link", name=f"{op['summary']} HTTP Method")
                expect(link).to_be_visible()
    assert refused == [], "the docs page reached out of the machine"
    assert seen == []


def test_swagger_renders_every_operation_without_internet(server: str, page: Page) -> None:
    refused = offline(page)
    seen = problems(page)
    page.goto(f"{server}/schema/swagger")
    ops = operations(server)
    expect(page.locator(".opblock")).to_have_count(len(ops), timeout=20_000)
    shown = page.locator(".opblock-summary-description").all_inner_texts()
    assert sorted(shown) == sorted(op["summary"] for op in ops)
    assert refused == [], "the docs page reached out of the machine"
    assert seen == []


def test_the_docs_assets_and_favicon_come_from_the_service(server: str) -> None:
    for page in ("/schema", "/schema/swagger"):
        html = httpx.get(f"{server}{page}").text
        assert "http://" not in html
        assert "https://" not in html
        assert "<script>" not in html, "no inline script"
        assert '<link rel="icon" href="/static/favicon.svg"' in html
    favicon = httpx.get(f"{server}/static/favicon.svg")
    assert favicon.status_code == 200
    assert favicon.headers["content-type"].startswith("image/svg+xml")


def test_pages_cannot_be_framed(server: str, page: Page, tmp_path: Path) -> None:
    # A page of another origin (a file here) frames the docs, the live page and, as a
    # control that framing works at all, a static file (which may be framed).
    framing = tmp_path / "frame.html"
    framing.write_text(
        f'<iframe name="docs" src="{server}/schema"></iframe>'
        f'<iframe name="board" src="{server}/boards/any"></iframe>'
        f'<iframe name="control" src="{server}/static/favicon.svg"></iframe>'
    )
    refusals: list[str] = []
    page.on(
        "console",
        lambda message: (
            refusals.append(message.text) if "frame-ancestors 'none'" in message.text else None
        ),
    )
    page.goto(framing.as_uri())

    error_page = "chrome-error:"

    def frame_urls() -> dict[str, str]:
        return {frame.name: frame.url for frame in page.frames}

    def settled() -> bool:
        urls = frame_urls()
        return (
            # Chromium says why it refused each document, and shows its error page instead
            # (which, on a busy machine, may also drop the frame's name).
            len(refusals) == 2
            and all(urls.get(name, error_page).startswith(error_page) for name in ("docs", "board"))
            and not any(url.endswith(("/schema", "/boards/any")) for url in urls.values())
            and urls.get("control", "").endswith("/static/favicon.svg")
        )

    try:
        wait_until(settled, 15, "the framed pages to be refused")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: frames {frame_urls()}, refusals {refusals}") from None
