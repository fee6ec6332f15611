"""``goval serve`` serves the IDE at ``/`` and tells it which services exist (``/ide.json``).

Plain HTTP (urllib) against the module's ``goval serve``: these tests share a session with the
Playwright ones, whose sync API owns this thread's event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiohttp import web

from goval.server.ide import add_ide_routes
from goval.services.registry import ServiceRegistry
from tests.ide.conftest import IdeServer, free_port


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@contextmanager
def serving(app: web.Application) -> Iterator[str]:
    """``app`` on a free port, run by its own event loop in its own thread."""
    port = free_port()
    started = threading.Event()
    stop: list[asyncio.Event] = []

    async def run() -> None:
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop.append(asyncio.Event())
        started.set()
        await stop[0].wait()
        await runner.cleanup()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    assert started.wait(timeout=5)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(timeout=5)
        loop.close()


def test_the_server_serves_the_ide_page_and_its_bundle(ide_server: IdeServer) -> None:
    base = f"http://127.0.0.1:{ide_server.port}"
    status, headers, body = fetch(f"{base}/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script defer src="app.js"></script>' in body
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    status, headers, body = fetch(f"{base}/app.js")
    assert (status, headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    assert len(body) > 100_000
    status, headers, _ = fetch(f"{base}/app.css")
    assert (status, headers["Content-Type"]) == (200, "text/css; charset=utf-8")


def test_ide_json_lists_the_services_the_server_offers(ide_server: IdeServer) -> None:
    status, _, body = fetch(f"http://127.0.0.1:{ide_server.port}/ide.json")
    assert status == 200
    assert json.loads(body)["services"] == ServiceRegistry().names()


@pytest.mark.parametrize("path", ["/", "/app.js"])
def test_a_missing_bundle_says_how_to_build_it(tmp_path: Path, path: str) -> None:
    app = web.Application()
    add_ide_routes(app, ["chat"], static_dir=tmp_path)
    with serving(app) as base:
        status, _, body = fetch(base + path)
        assert status == 404
        assert b"make ide" in body
        assert json.loads(fetch(f"{base}/ide.json")[2]) == {"services": ["chat"]}
