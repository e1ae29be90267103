"""The ceiling: a bare Litestar app, served by uvicorn exactly like the service.

`GET /hello` answers `{"status":"ok"}`; no middleware, no plugins, no dependencies.
"""

from litestar import Litestar, get


@get("/hello", sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[hello], logging_config=None, openapi_config=None)
