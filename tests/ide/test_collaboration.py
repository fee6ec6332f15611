"""Collaborative editing in the browser (OT, protocol.md §5): two users, one file, one result."""

from __future__ import annotations

import json
import re
import time
from itertools import zip_longest

from playwright.sync_api import Page, expect

from goval.identity import Role
from tests.ide.conftest import ARTIFACTS, IdeServer, Pages, screenshot

TEXT_OF = "path => { const open = window.goval.docs.get(path); return open ? open.doc.text : null }"
SETTLED = (
    "path => { const open = window.goval.docs.get(path);"
    " return open ? !open.doc.pending && open.doc.version : 0 }"
)


def open_file(page: Page, path: str) -> None:
    page.locator(f"[role=treeitem][data-path='{path}'] > .tree-label").click()
    expect(page.get_by_role("textbox", name=f"Editor: {path}")).to_be_visible()
    page.wait_for_function(f"({SETTLED})('{path}') > 0")


def wait_converged(pages: list[Page], path: str, timeout: float = 8.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        versions = {page.evaluate(SETTLED, path) for page in pages}
        texts: set[str] = {page.evaluate(TEXT_OF, path) for page in pages}
        if len(versions) == 1 and len(texts) == 1 and 0 not in versions:
            return texts.pop()
        assert time.monotonic() < deadline, f"no convergence: {texts} at {versions}"
        time.sleep(0.05)


def test_two_users_typing_at_once_end_with_the_same_text_as_the_disk(
    pages: Pages, ide_server: IdeServer
) -> None:
    (ide_server.workspace / "duet.txt").write_text("first line\nsecond line\n")
    alice = pages.open(ide_server.url_for("alice", Role.WRITE, 2))
    bob = pages.open(ide_server.url_for("bob", Role.WRITE, 3))
    for page in (alice, bob):
        open_file(page, "duet.txt")
    alice.get_by_role("textbox", name="Editor: duet.txt").click()
    alice.keyboard.press("Control+Home")
    bob.get_by_role("textbox", name="Editor: duet.txt").click()
    bob.keyboard.press("Control+End")
    for a, b in zip_longest("alice typed this ", "bob typed that", fillvalue=""):
        alice.keyboard.type(a)
        bob.keyboard.type(b)
    text = wait_converged([alice, bob], "duet.txt")
    assert text.startswith("alice typed this first line\n")
    assert text.endswith("second line\nbob typed that")
    # Each sees the other's cursor, labelled with their name.
    expect(alice.locator(".remote-label", has_text="bob")).to_be_visible()
    expect(bob.locator(".remote-label", has_text="alice")).to_be_visible()
    screenshot(alice, "ide-collaboration")
    deadline = time.monotonic() + 5
    while (ide_server.workspace / "duet.txt").read_text() != text:
        assert time.monotonic() < deadline, "the disk never got the edited text"
        time.sleep(0.1)


def test_a_server_restart_mid_edit_loses_no_typed_character(
    pages: Pages, own_server: IdeServer
) -> None:
    page = pages.open(own_server.owner_url)
    open_file(page, "notes.txt")
    editor = page.get_by_role("textbox", name="Editor: notes.txt")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("before ")
    # Graceful stop: the documents are flushed within a second or two. (The grace is short
    # because the server currently accepts crosis's immediate reconnect while shutting down
    # and then waits for that session; reported to the server's owners.)
    own_server.stop(grace=3.0)
    expect(page.get_by_test_id("connection")).not_to_have_attribute("data-state", "connected")
    page.keyboard.type("while down ")  # kept by the page while there is no server
    own_server.start()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    page.keyboard.type("after")
    text = wait_converged([page], "notes.txt")
    assert text == "abc\nbefore while down after"
    deadline = time.monotonic() + 5
    while (own_server.workspace / "notes.txt").read_text() != text:
        assert time.monotonic() < deadline, "the disk never got the typed text"
        time.sleep(0.1)
    # A second browser opening the file now gets everything too.
    other = pages.open(own_server.url_for("bob", Role.WRITE, 3))
    open_file(other, "notes.txt")
    assert wait_converged([page, other], "notes.txt") == text
    pages.close(other)
    pages.close(page)  # before the server stops: see the grace note above


WATCH_ARRIVALS = """path => {
  const doc = window.goval.docs.get(path).doc;
  window.arrivals = [];
  doc.element.addEventListener('remote-edit', () =>
    window.arrivals.push([performance.timeOrigin + performance.now(), doc.text.length]));
}"""
WATCH_PRESSES = """() => {
  window.presses = [];
  document.addEventListener('keydown', () =>
    window.presses.push(performance.timeOrigin + performance.now()), true);
}"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def test_keystrokes_reach_the_other_browser_quickly(pages: Pages, ide_server: IdeServer) -> None:
    """Keypress in one browser → text visible in another: p50 and p99 (artifacts/)."""
    (ide_server.workspace / "latency.txt").write_text("")
    alice = pages.open(ide_server.url_for("alice", Role.WRITE, 2))
    bob = pages.open(ide_server.url_for("bob", Role.WRITE, 3))
    for page in (alice, bob):
        open_file(page, "latency.txt")
    bob.evaluate(WATCH_ARRIVALS, "latency.txt")
    alice.evaluate(WATCH_PRESSES)
    alice.get_by_role("textbox", name="Editor: latency.txt").click()
    count = 40
    for _ in range(count):
        alice.keyboard.type("x")
        time.sleep(0.02)  # a fast typist: 50 characters a second
    assert wait_converged([alice, bob], "latency.txt") == "x" * count
    presses: list[float] = alice.evaluate("window.presses")
    arrivals: list[list[float]] = bob.evaluate("window.arrivals")
    assert len(presses) == count
    latencies = []
    for index, pressed in enumerate(presses):
        seen = next(at for at, length in arrivals if length >= index + 1)
        latencies.append(seen - pressed)
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    ARTIFACTS.mkdir(exist_ok=True)
    figures = {"keystrokes": count, "p50_ms": round(p50, 1), "p99_ms": round(p99, 1)}
    (ARTIFACTS / "ide-latency.json").write_text(json.dumps(figures) + "\n")
    print(f"typing latency to another browser: {figures}")
    assert p50 < 150, figures
    assert p99 < 1000, figures


def test_history_replays_a_files_edits_and_a_restore_reaches_everyone(
    pages: Pages, ide_server: IdeServer
) -> None:
    (ide_server.workspace / "story.txt").write_text("abc\n")
    alice = pages.open(ide_server.url_for("alice", Role.WRITE, 2))
    bob = pages.open(ide_server.url_for("bob", Role.WRITE, 3))
    for page in (alice, bob):
        open_file(page, "story.txt")
    alice.get_by_role("textbox", name="Editor: story.txt").click()
    alice.keyboard.press("Control+End")
    alice.keyboard.type("more")
    edited = wait_converged([alice, bob], "story.txt")
    assert edited == "abc\nmore"
    alice.get_by_test_id("history-toggle").click()
    label = alice.get_by_test_id("history-label")
    expect(label).to_have_text(re.compile(r"^Version (\d+) of \1 · "))
    alice.get_by_role("slider", name="Version").press("Home")
    alice.get_by_role("slider", name="Version").press("ArrowRight")
    expect(label).to_have_text(re.compile(r"^Version 1 of "))
    expect(alice.get_by_role("textbox", name="story.txt at version 1")).to_have_text("abc")
    screenshot(alice, "ide-history")
    alice.get_by_test_id("history-restore").click()
    assert wait_converged([alice, bob], "story.txt") == "abc\n"
    # The restore was an ordinary edit: undo takes it back, for everyone.
    alice.get_by_role("textbox", name="Editor: story.txt").press("Control+z")
    assert wait_converged([alice, bob], "story.txt") == edited
