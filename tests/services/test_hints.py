"""Hint matching (protocol §4.5): built-ins, .replit rules, once per run, split lines."""

from __future__ import annotations

import re

from goval.services.hints import BUILTIN_HINTS, HintMatcher
from goval.storage import Hint


def test_built_in_hints_name_the_missing_module() -> None:
    matcher = HintMatcher(BUILTIN_HINTS)
    python = matcher.feed("ModuleNotFoundError: No module named 'flask'\r\n")
    node = matcher.feed("Error: Cannot find module 'express'\n")
    assert python == ["Module flask is not installed; add it in the Packages pane."]
    assert node == ["Module express is not installed; add it in the Packages pane."]


def test_a_rule_fires_once_per_run_until_reset() -> None:
    matcher = HintMatcher([Hint(re.compile(r"disk (\w+) full"), "Free $1; keep $2 and $$")])
    assert matcher.feed("disk sda full\ndisk sda full\n") == ["Free sda; keep $2 and $$"]
    assert matcher.feed("disk sdb full\n") == []
    matcher.reset()
    assert matcher.feed("disk sdb full\n") == ["Free sdb; keep $2 and $$"]


def test_lines_split_across_chunks_and_coloured_output_still_match() -> None:
    matcher = HintMatcher(BUILTIN_HINTS)
    assert matcher.feed("\x1b[31mModuleNotFound") == []
    assert matcher.feed("Error: No module named 'numpy'\x1b[0m") == []
    assert matcher.finish() == ["Module numpy is not installed; add it in the Packages pane."]


def test_anchors_apply_per_line() -> None:
    matcher = HintMatcher([Hint(re.compile(r"^fatal: (.*)$"), "git says: $1")])
    assert matcher.feed("ok\r\nfatal: not a repo\r\nmore\r\n") == ["git says: not a repo"]
