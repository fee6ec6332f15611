"""The browser IDE in Chromium against a real ``goval serve``: what a person sees and does."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from goval.identity import Role
from tests.ide.conftest import IdeServer, Pages, free_port, screenshot


def tree_item(page: Page, path: str):  # type: ignore[no-untyped-def]
    return page.locator(f"[role=treeitem][data-path='{path}'] > .tree-label")


def test_the_ide_connects_and_shows_the_workspace_tree(pages: Pages, ide_server: IdeServer) -> None:
    page = pages.open(ide_server.owner_url)
    expect(page.get_by_test_id("connection")).to_have_text("Connected")
    expect(tree_item(page, "main.py")).to_be_visible()
    expect(tree_item(page, "pkg")).to_be_visible()
    # The token leaves the address bar (screenshots, shared links) but the page keeps working.
    assert "token" not in page.url
    tree_item(page, "pkg").click()
    expect(tree_item(page, "pkg/mod.py")).to_be_visible()
    tree_item(page, "main.py").click()
    expect(page.get_by_role("textbox", name="Editor: main.py")).to_contain_text(
        'print("hello from main")'
    )
    screenshot(page, "ide-1280x800")


def test_the_file_tree_is_usable_from_the_keyboard(pages: Pages, ide_server: IdeServer) -> None:
    page = pages.open(ide_server.owner_url)
    expect(tree_item(page, "pkg")).to_be_visible()
    page.locator("[role=treeitem][data-path='pkg']").focus()
    page.keyboard.press("ArrowRight")  # expand pkg
    expect(tree_item(page, "pkg/mod.py")).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # open pkg/mod.py
    expect(page.get_by_role("textbox", name="Editor: pkg/mod.py")).to_contain_text("X = 1")


def test_a_file_created_on_disk_appears_in_the_tree(pages: Pages, ide_server: IdeServer) -> None:
    page = pages.open(ide_server.owner_url)
    expect(tree_item(page, "main.py")).to_be_visible()
    (ide_server.workspace / "fresh.txt").write_text("new\n")
    expect(tree_item(page, "fresh.txt")).to_be_visible(timeout=5000)
    (ide_server.workspace / "fresh.txt").unlink()
    expect(tree_item(page, "fresh.txt")).to_have_count(0, timeout=5000)


def test_files_are_created_renamed_and_deleted_from_the_tree(
    pages: Pages, ide_server: IdeServer
) -> None:
    page = pages.open(ide_server.owner_url)
    page.once("dialog", lambda dialog: dialog.accept("drafts/made.txt"))
    page.get_by_role("button", name="New file").click()
    expect(page.get_by_role("textbox", name="Editor: drafts/made.txt")).to_be_visible()
    assert (ide_server.workspace / "drafts" / "made.txt").read_text() == ""
    tree_item(page, "drafts").click()
    page.locator("[role=treeitem][data-path='drafts/made.txt']").focus()
    page.once("dialog", lambda dialog: dialog.accept("drafts/renamed.txt"))
    page.keyboard.press("F2")
    expect(tree_item(page, "drafts/renamed.txt")).to_be_visible()
    expect(tree_item(page, "drafts/made.txt")).to_have_count(0)
    # The editor tab of a renamed file closes: its path is gone.
    expect(page.get_by_role("textbox", name="Editor: drafts/made.txt")).to_have_count(0)
    assert (ide_server.workspace / "drafts" / "renamed.txt").exists()
    page.locator("[role=treeitem][data-path='drafts/renamed.txt']").focus()
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Delete")
    expect(tree_item(page, "drafts/renamed.txt")).to_have_count(0)
    assert not (ide_server.workspace / "drafts" / "renamed.txt").exists()


def test_the_shell_tab_shows_a_commands_output(pages: Pages, ide_server: IdeServer) -> None:
    page = pages.open(ide_server.owner_url)
    page.get_by_role("tab", name="Shell").click()
    terminal = page.get_by_test_id("shell-terminal")
    terminal.click()
    page.keyboard.type("echo $((6*7))x\n")
    expect(terminal.locator(".xterm-rows")).to_contain_text("42x", timeout=5000)
    screenshot(page, "ide-shell")


def test_run_prints_the_programs_output_and_its_state(pages: Pages, ide_server: IdeServer) -> None:
    program = 'import time\nprint("hello from run", flush=True)\ntime.sleep(1.5)\nprint("bye")\n'
    (ide_server.workspace / "run_me.py").write_text(program)
    (ide_server.workspace / ".replit").write_text('run = "python3 -u run_me.py"\n')
    page = pages.open(ide_server.owner_url)
    state = page.get_by_test_id("run-state")
    expect(state).to_have_text("Stopped")
    page.get_by_test_id("run").click()
    expect(state).to_have_text("Running", timeout=5000)
    expect(page.get_by_test_id("run")).to_have_text(re.compile("Stop"))
    rows = page.get_by_test_id("console-terminal").locator(".xterm-rows")
    expect(rows).to_contain_text("hello from run", timeout=5000)
    screenshot(page, "ide-run")
    expect(state).to_have_text("Stopped", timeout=8000)
    expect(rows).to_contain_text("bye")


def test_chat_and_presence_reach_the_other_browser(pages: Pages, ide_server: IdeServer) -> None:
    alice = pages.open(ide_server.url_for("alice", Role.WRITE, 2))
    bob = pages.open(ide_server.url_for("bob", Role.WRITE, 3))
    for page in (alice, bob):
        avatars = page.get_by_test_id("presence").locator("li")
        expect(avatars).to_have_count(2, timeout=5000)
        expect(page.get_by_test_id("presence").locator("li[data-name=bob]")).to_have_count(1)
    alice.get_by_role("textbox", name="Message").fill("hi bob")
    alice.keyboard.press("Enter")
    log = bob.get_by_role("log", name="Chat messages")
    expect(log).to_contain_text("alice")
    expect(log).to_contain_text("hi bob")
    bob.get_by_role("textbox", name="Message").fill("hello alice")
    bob.get_by_role("button", name="Send").click()
    expect(alice.get_by_role("log", name="Chat messages")).to_contain_text("hello alice")
    screenshot(bob, "ide-chat")
    # Someone arriving later gets the scrollback.
    carol = pages.open(ide_server.url_for("carol", Role.READ, 4))
    expect(carol.get_by_role("log", name="Chat messages")).to_contain_text("hi bob")
    expect(carol.get_by_role("log", name="Chat messages")).to_contain_text("hello alice")
    pages.close(carol)
    pages.close(bob)
    expect(alice.get_by_test_id("presence").locator("li")).to_have_count(1, timeout=5000)


def test_a_read_only_user_is_told_and_cannot_change_anything(
    pages: Pages, ide_server: IdeServer
) -> None:
    page = pages.open(ide_server.url_for("rita", Role.READ, 4))
    expect(page.get_by_test_id("read-only")).to_be_visible()
    # No Run button, no shell, no file actions: the read role may not open those services.
    expect(page.get_by_test_id("run")).to_have_count(0)
    expect(page.get_by_role("tab", name="Shell")).to_have_count(0)
    expect(page.get_by_role("button", name="New file")).to_have_count(0)
    tree_item(page, "notes.txt").click()
    editor = page.get_by_role("textbox", name="Editor: notes.txt")
    expect(editor).to_contain_text("abc")
    expect(editor).to_have_attribute("contenteditable", "false")
    editor.click()
    page.keyboard.type("zzz")
    expect(editor).not_to_contain_text("zzz")
    screenshot(page, "ide-read-only")


def test_a_narrow_window_stacks_the_panes(pages: Pages, ide_server: IdeServer) -> None:
    page = pages.open(ide_server.owner_url, width=420, height=860)
    expect(tree_item(page, "main.py")).to_be_visible()
    tree_item(page, "main.py").click()
    editor = page.get_by_role("textbox", name="Editor: main.py")
    expect(editor).to_be_visible()
    tree_box = page.locator("nav.side").bounding_box()
    editor_box = page.locator("main.main").bounding_box()
    assert tree_box is not None and editor_box is not None
    assert editor_box["y"] >= tree_box["y"] + tree_box["height"] - 1  # stacked, not side by side
    assert editor_box["width"] <= 420
    screenshot(page, "ide-narrow")


def test_a_program_that_opens_a_port_shows_up_in_the_webview(
    pages: Pages, ide_server: IdeServer
) -> None:
    port = free_port()
    (ide_server.workspace / "site").mkdir()
    (ide_server.workspace / "site" / "index.html").write_text("<h1>served by the program</h1>")
    run = f"python3 -m http.server {port} --bind 127.0.0.1 --directory site"
    (ide_server.workspace / ".replit").write_text(f'run = "{run}"\n')
    page = pages.open(ide_server.owner_url)
    page.get_by_test_id("run").click()
    expect(page.get_by_role("tab", name="Webview")).to_have_attribute(
        "aria-selected", "true", timeout=10_000
    )
    frame = page.frame_locator("[data-testid=webview]")
    expect(frame.locator("h1")).to_have_text("served by the program", timeout=5000)
    screenshot(page, "ide-webview")
    page.get_by_test_id("run").click()  # Stop
    expect(page.get_by_test_id("run-state")).to_have_text("Stopped", timeout=5000)
