"""Hints: run output matched against rules that suggest a fix (protocol §4.5).

Owns the built-in rules (a missing Python or Node module) and ``HintMatcher``, which scans a
run's output line by line (escape sequences removed, lines split across chunks joined) and
yields each rule's text — ``$1``… replaced by the match's groups — at most once per run. Pure:
no I/O, no asyncio; the services broadcast what it returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from goval.storage import Hint

__all__ = ["BUILTIN_HINTS", "HintMatcher"]

_NOT_INSTALLED = "Module $1 is not installed; add it in the Packages pane."

BUILTIN_HINTS: tuple[Hint, ...] = (
    Hint(re.compile(r"ModuleNotFoundError: No module named '(\S+)'"), _NOT_INSTALLED),
    Hint(re.compile(r"Cannot find module '(\S+)'"), _NOT_INSTALLED),
)

# CSI and OSC sequences, and lone escapes: terminal styling must not break a match.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.?")
_GROUP_REF = re.compile(r"\$(\d)")
# A line longer than this is matched in pieces rather than buffered without bound.
_MAX_LINE = 16 * 1024


class HintMatcher:
    """Matches output against rules; each rule fires once until :meth:`reset`.

    Args:
        rules: ``.replit`` ``[[hints]]`` first, then usually :data:`BUILTIN_HINTS`.
    """

    def __init__(self, rules: Iterable[Hint]) -> None:
        # Per line, as the rules are written: ``^``/``$`` anchor at line ends.
        self._rules = [
            (re.compile(rule.regex.pattern, rule.regex.flags | re.MULTILINE), rule.text)
            for rule in rules
        ]
        self._pending = list(range(len(self._rules)))
        self._partial = ""

    def reset(self) -> None:
        """A new run: every rule may fire again."""
        self._pending = list(range(len(self._rules)))
        self._partial = ""

    def feed(self, text: str) -> list[str]:
        """Scan more output; returns the hint texts newly matched (in rule order)."""
        if not self._pending:
            return []
        text = self._partial + text
        cut = text.rfind("\n") + 1
        if cut == 0 and len(text) > _MAX_LINE:
            cut = len(text)
        self._partial = text[cut:]
        return self._match(text[:cut]) if cut else []

    def finish(self) -> list[str]:
        """The run ended: match a last line that had no newline."""
        rest, self._partial = self._partial, ""
        return self._match(rest) if rest and self._pending else []

    def _match(self, lines: str) -> list[str]:
        clean = _ESCAPES.sub("", lines).replace("\r", "")
        found: list[str] = []
        for index in list(self._pending):
            regex, template = self._rules[index]
            match = regex.search(clean)
            if match is None:
                continue
            self._pending.remove(index)
            found.append(_expand(template, match))
        return found


def _expand(template: str, match: re.Match[str]) -> str:
    def group(ref: re.Match[str]) -> str:
        number = int(ref.group(1))
        if number > (match.re.groups or 0):
            return ref.group(0)
        return match.group(number) or ""

    return _GROUP_REF.sub(group, template)
