"""The browser IDE over HTTP: ``/`` and the committed bundle, and ``/ide.json``.

Owns only these routes. The bundle (``goval/web/static``: index.html, app.js, app.css) is
built from ``ide/`` by ``make ide`` and committed, so serving it needs no Node. ``/ide.json``
tells the page which services this server offers: crosis treats a failed ``openChan`` as fatal
to the whole client, so the IDE must not open a service that is not there.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from aiohttp import web

__all__ = ["STATIC_DIR", "add_ide_routes"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
}

# CodeMirror injects <style> elements, hence 'unsafe-inline' for styles only. The webview
# frame shows /proxy/ pages, and the page talks to its own host only ('self' covers ws:).
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'self'"
)

_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": _CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _static(name: str, content_type: str, static_dir: Path) -> Handler:
    path = static_dir / name

    async def handler(request: web.Request) -> web.StreamResponse:
        if not path.is_file():
            raise web.HTTPNotFound(text=f"the IDE bundle is missing ({name}): run `make ide`")
        # FileResponse answers If-None-Match / If-Modified-Since, so reloads cost a 304.
        response = web.FileResponse(path, headers=_HEADERS)
        response.content_type = content_type.split(";")[0]
        response.charset = "utf-8"
        return response

    return handler


def add_ide_routes(
    app: web.Application, services: Iterable[str], static_dir: Path = STATIC_DIR
) -> None:
    """Serve the IDE at ``/`` from ``static_dir`` and list ``services`` at ``/ide.json``."""
    body = json.dumps({"services": sorted(services)})

    async def ide_json(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json", headers=_HEADERS)

    for url, (name, content_type) in _FILES.items():
        app.router.add_get(url, _static(name, content_type, static_dir))
    app.router.add_get("/ide.json", ide_json)
