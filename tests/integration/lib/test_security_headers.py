"""Security headers: the HTML pages' CSP and framing rules, nosniff on every response."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

HTML_PAGES = ["/boards/weekly-race", "/boards/nope", "/schema", "/schema/swagger"]


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", HTML_PAGES)
async def test_html_pages_carry_the_security_headers(
    client: AsyncTestClient[Litestar], path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    csp = directives(response.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'none'"]
    # Scripts from the service only: no inline script, no eval, no other host.
    assert csp["script-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    # And the pages hold no inline script that such a policy would block.
    assert "<script>" not in response.text
    assert "<script " not in response.text.replace("<script src=", "")


async def test_the_live_page_needs_no_inline_style_either(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/boards/weekly-race")
    assert directives(response.headers["content-security-policy"])["style-src"] == ["'self'"]
    assert "<style" not in response.text
    assert " style=" not in response.text


@pytest.mark.parametrize(
    "path", ["/health", "/static/board.js", "/static/nope.js", "/no/such/route", "/metrics"]
)
async def test_every_response_says_nosniff(client: AsyncTestClient[Litestar], path: str) -> None:
    response = await client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_static_files_have_their_types(client: AsyncTestClient[Litestar]) -> None:
    types = {
        "/static/board.js": "text/javascript",
        "/static/board.css": "text/css",
        "/static/favicon.svg": "image/svg+xml",
        "/static/vendor/scalar-api-reference-1.76.0/standalone.js": "text/javascript",
        "/static/vendor/swagger-ui-dist-5.35.0/swagger-ui.css": "text/css",
    }
    for path, media_type in types.items():
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith(media_type), path
