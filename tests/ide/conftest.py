"""Fixtures for the browser IDE tests: Debian's Chromium driven by Playwright, and a real
``goval serve`` subprocess per test (a restart test needs to kill and start it again).

Chromium is the system one (``make browser`` installs it and the ``playwright`` package);
Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from goval.identity import Role
from goval.server.auth import Authenticator
from goval.storage import load_or_create_keys

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
GOVAL = Path(sys.executable).with_name("goval")

try:
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright
except ImportError as exc:  # pragma: no cover - a setup problem, reported clearly
    raise RuntimeError("the IDE tests need playwright: run `make browser`") from exc


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class IdeServer:
    """``goval serve`` on a fixed port, restartable; the workspace and state are kept."""

    workspace: Path
    state_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    owner_url: str = ""
    log: list[str] = field(default_factory=list)

    def start(self) -> None:
        command = [str(GOVAL), "serve", str(self.workspace), "--port", str(self.port)]
        command += ["--state-dir", str(self.state_dir)]
        # /bin/sh for shells: a developer's ~/.bashrc (pyenv, conda...) can stall a new bash.
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "SHELL": "/bin/sh"}
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 15
        for line in self.process.stdout:
            found = re.search(r"open:\s+(\S+)", line)
            if found:
                self.owner_url = found.group(1)
                # Keep reading, or a chatty server blocks on a full pipe.
                threading.Thread(target=self._drain, daemon=True).start()
                return
            if time.monotonic() > deadline:
                break
        raise RuntimeError(f"goval serve did not start: {self.process.poll()}")

    def _drain(self) -> None:
        process = self.process
        assert process is not None and process.stdout is not None
        for line in process.stdout:
            self.log.append(line)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM (graceful: OT flushed, 1001 to clients), SIGKILL after ``grace`` seconds."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def url_for(self, name: str, role: Role = Role.WRITE, user_id: int = 2) -> str:
        keys = load_or_create_keys(self.state_dir)
        token = Authenticator(keys.secret, keys.workspace_id).mint(name, role, user_id, 3600.0)
        return f"http://127.0.0.1:{self.port}/#token={token}"


def make_workspace(root: Path) -> Path:
    workspace = root / "ws"
    workspace.mkdir()
    (workspace / "main.py").write_text('print("hello from main")\n')
    (workspace / "notes.txt").write_text("abc\n")
    (workspace / ".replit").write_text('run = "python3 -u main.py"\n')
    (workspace / "pkg").mkdir()
    (workspace / "pkg" / "mod.py").write_text("X = 1\n")
    return workspace


@pytest.fixture(scope="module")
def ide_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdeServer]:
    """One server per test module (starting one costs seconds); tests use distinct files
    and close their pages (the ``pages`` fixture), so presence starts empty for each."""
    root = tmp_path_factory.mktemp("ide")
    server = IdeServer(make_workspace(root), root / "state")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[IdeServer]:
    """A server for one test alone (to restart it, for instance)."""
    server = IdeServer(make_workspace(tmp_path), tmp_path / "state")
    server.start()
    yield server
    server.stop(grace=3.0)


class Pages:
    """Opens IDE pages, each in its own browser context (another user), closed after the test."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []

    def open(
        self, url: str, width: int = 1280, height: int = 800, bypass_csp: bool = False
    ) -> Page:
        """A page on the IDE at ``url``, once it shows it is connected."""
        viewport: ViewportSize = {"width": width, "height": height}
        context = self.browser.new_context(viewport=viewport, bypass_csp=bypass_csp)
        self.contexts.append(context)
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("[data-testid=connection][data-state=connected]", timeout=10_000)
        return page

    def close(self, page: Page) -> None:
        self.contexts.remove(page.context)
        page.context.close()


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    for context in opened.contexts:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
