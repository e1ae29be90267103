"""The API docs pages, served with their assets from this service (no CDN).

Litestar's Scalar and Swagger plugins load their JavaScript and Litestar's branding
from a CDN (Scalar ``@latest``) and start them with an inline script: offline the page
stays blank, and an inline script needs a CSP exception. These render the same UIs from
pinned copies in ``static/vendor`` (static/vendor/README.md says where they come from)
and start them from ``static/*-init.js``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin

from leaderboard.web.static_files import STATIC_PATH

SCALAR = f"{STATIC_PATH}/vendor/scalar-api-reference-1.76.0"
SWAGGER = f"{STATIC_PATH}/vendor/swagger-ui-dist-5.35.0"
FAVICON = f'<link rel="icon" href="{STATIC_PATH}/favicon.svg" type="image/svg+xml">'


def _page(title: str, openapi_url: str, head: str, body: str) -> bytes:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
{FAVICON}
<link rel="stylesheet" href="{STATIC_PATH}/docs.css">
{head}
</head>
<body>
<noscript>The API documentation needs JavaScript; the OpenAPI document itself is at
<a href="{openapi_url}">{openapi_url}</a>.</noscript>
{body}
</body>
</html>
""".encode()


class OfflineScalar(ScalarRenderPlugin):
    """Scalar at the docs' root (``/schema``)."""

    def __init__(self, *, path: str = "/scalar") -> None:
        super().__init__(path=path, js_url=f"{SCALAR}/standalone.js", css_url="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        url = escape(self.get_openapi_json_route(request), quote=True)
        return _page(
            str(openapi_schema["info"]["title"]),
            url,
            "",
            f'<div id="scalar-docs" data-openapi-url="{url}"></div>\n'
            f'<script src="{self.js_url}"></script>\n'
            f'<script src="{STATIC_PATH}/scalar-init.js"></script>',
        )


class OfflineSwagger(SwaggerRenderPlugin):
    """Swagger UI, for those who prefer it (``/schema/swagger``)."""

    def __init__(self, *, path: str = "/swagger") -> None:
        super().__init__(
            path=path,
            js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            css_url=f"{SWAGGER}/swagger-ui.css",
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        url = escape(self.get_openapi_json_route(request), quote=True)
        return _page(
            f"{openapi_schema['info']['title']} (Swagger UI)",
            url,
            f'<link rel="stylesheet" href="{self.css_url}">',
            f'<div id="swagger-ui" data-openapi-url="{url}"></div>\n'
            f'<script src="{self.js_url}"></script>\n'
            f'<script src="{STATIC_PATH}/swagger-init.js"></script>',
        )
