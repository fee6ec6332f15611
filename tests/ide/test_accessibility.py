"""The IDE passes axe-core's WCAG 2 A/AA and best-practice rules on its main screens.

axe-core (an ide/ dev dependency) is injected into the page; the page's CSP forbids inline
scripts, so this one context bypasses it.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from goval.identity import Role
from tests.ide.conftest import IdeServer, Pages
from tests.ide.test_bundle import IDE, node_modules

AXE = IDE / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})
  .then(result => result.violations.map(v =>
    `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`))"""


def violations(page: Page) -> list[str]:
    if page.evaluate("typeof axe") == "undefined":
        page.add_script_tag(path=str(AXE))
    found: list[str] = page.evaluate(RUN_AXE)
    return found


def test_the_main_screen_has_no_accessibility_violations(
    pages: Pages, ide_server: IdeServer
) -> None:
    node_modules()
    (ide_server.workspace / "a11y.txt").write_text("look at me\n")
    page = pages.open(ide_server.url_for("alice", Role.WRITE, 2), bypass_csp=True)
    other = pages.open(ide_server.url_for("bob", Role.WRITE, 3))
    for each in (page, other):
        each.locator("[role=treeitem][data-path='a11y.txt'] > .tree-label").click()
        expect(each.get_by_role("textbox", name="Editor: a11y.txt")).to_contain_text("look")
    other.get_by_role("textbox", name="Message").fill("a message to read")
    other.keyboard.press("Enter")
    other.get_by_role("textbox", name="Editor: a11y.txt").click()  # a remote cursor for alice
    expect(page.get_by_role("log", name="Chat messages")).to_contain_text("a message to read")
    expect(page.locator(".remote-label", has_text="bob")).to_be_visible()
    assert violations(page) == []
    page.set_viewport_size({"width": 420, "height": 860})
    assert violations(page) == []
