"""Security headers of the HTML pages (the live board page and the API docs).

Each page gets a Content-Security-Policy that allows what it loads and nothing else:
scripts and styles only from this service (no inline script anywhere: the pages' code
lives in ``static/``), connections only back to it, and no framing by other sites
(``frame-ancestors 'none'`` and, for older browsers, ``X-Frame-Options: DENY``). Every
response of the service says ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders, ResponseHeader
from litestar.types import Message, Scope

_COMMON = {
    # Pages are never framed: no clickjacking of the "Show rank" form or the docs' forms.
    "X-Frame-Options": "DENY",
    # Links out of a page do not tell the other site which board or player was viewed.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _csp(*directives: str) -> str:
    base = ("base-uri 'none'", "frame-ancestors 'none'", "object-src 'none'")
    return "; ".join((*directives, *base))


# The live page: its own script and stylesheet; fetch and the WebSocket back to the
# service ('self' covers ws:// and wss:// to the same host and port).
BOARD_PAGE_CSP = _csp(
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "form-action 'none'",
)

# The API docs (Scalar, Swagger UI), served from static/vendor. Both set styles at run
# time (Vue's and React's style attributes and <style> elements), which a nonce cannot
# cover, hence 'unsafe-inline' for styles only; scripts stay 'self'. Images and fonts
# may be data: URIs (icons in their CSS). "Try it" requests go to the service itself.
DOCS_CSP = _csp(
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "form-action 'self'",
)


def page_headers(csp: str) -> list[ResponseHeader]:
    """Response headers for an HTML page with Content-Security-Policy ``csp``."""
    headers = {**_COMMON, "Content-Security-Policy": csp}
    return [ResponseHeader(name=name, value=value) for name, value in headers.items()]


async def nosniff(message: Message, scope: Scope) -> None:
    """Litestar ``before_send`` hook: ``X-Content-Type-Options: nosniff`` on every response.

    JSON, errors (404s included) and static files too: browsers must not second-guess a
    declared content type (a JSON body sniffed as HTML could run script). A hook on the
    app's send reaches the responses that route-level headers do not (static files,
    errors raised before a route is found).
    """
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        if "x-content-type-options" not in headers:
            headers["X-Content-Type-Options"] = "nosniff"
