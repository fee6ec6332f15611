"""The screen a terminal's output has drawn, kept for redraws (pure: no I/O, no asyncio).

Owns ``TerminalScreen``: the emulator (``VirtualTerminal``) plus a backlog of output not yet
fed to it. pyte parses ~0.5–2 MB/s while a PTY produces ~20 MB/s, so output is queued by
``feed`` (cheap) and parsed by ``catch_up`` (called when output is quiet, and before any
redraw or resize). When the backlog outgrows ``tail_limit`` characters it is compacted: only the
tail that can still be visible (the last ``scrollback + rows`` lines, at most ``tail_limit``
characters) is kept, after the skipped part's lasting state (reset, modes, scroll region,
pen). For line-oriented output the result is exact; a full-screen program that was skipped
mid-repaint may show a partly stale screen until its next repaint.
"""

from __future__ import annotations

import logging
import re

import pyte

from goval.host.redraw import render_redraw
from goval.host.vt import VirtualTerminal

__all__ = ["TerminalScreen"]

_log = logging.getLogger(__name__)

# Sequences whose effect outlasts the text around them: RIS, (private) mode set/reset, SGR and
# DECSTBM. Group 1: "?" for private modes; group 2: parameters; group 3: the final byte.
_STATE_RE = re.compile(r"\x1bc|\x1b\[(\??)([0-9;:]*)([hlmr])")
# The skipped part's text is gone: start the kept tail from an empty screen and scrollback.
_CLEAN_SLATE = "\x1b[0m\x1b[H\x1b[2J\x1b[3J"


def _skipped_state(head: str) -> str:
    """The sequences of ``head`` that still matter after it, deduplicated, in order."""
    reset = head.rfind("\x1bc")
    if reset >= 0:
        head = head[reset + 2 :]
    kept: dict[str, str] = {}
    pen: list[str] = []
    for match in _STATE_RE.finditer(head):
        private, params, final = match.groups()
        if final == "m":
            if params in ("", "0"):
                pen.clear()
            pen.append(match.group(0))
        elif final == "r":
            kept["r"] = match.group(0)
        else:
            # The last setting of each mode wins; re-insert so it keeps its latest position.
            key = private + params
            kept.pop(key, None)
            kept[key] = match.group(0)
    prefix = "\x1bc" if reset >= 0 else ""
    return prefix + "".join(kept.values()) + "".join(pen)


def _tail_start(text: str, rows_needed: int, columns: int, max_chars: int) -> int:
    """Where the visible tail of ``text`` starts: just after a newline when possible."""
    floor = max(0, len(text) - max_chars)
    end = len(text)
    rows = 0
    while rows < rows_needed:
        newline = text.rfind("\n", floor, end)
        if newline < 0:
            after = text.find("\n", floor, len(text))
            return floor if after < 0 else after + 1
        rows += max(1, -(-(end - newline - 1) // columns))
        end = newline
    return end + 1


class TerminalScreen:
    """A terminal's screen and scrollback, fed with its output, rendered for redraws.

    Args:
        rows, cols: the size.
        scrollback: lines kept above the screen (protocol §3.7: 1000).
        tail_limit: the most backlog characters kept when output outruns the emulator.
    """

    def __init__(
        self,
        rows: int = 24,
        cols: int = 80,
        *,
        scrollback: int = 1000,
        tail_limit: int = 192 * 1024,
    ) -> None:
        self._vt = VirtualTerminal(cols, rows, scrollback)
        self._stream = pyte.Stream(self._vt)
        self._scrollback = scrollback
        self._tail_limit = tail_limit
        self._backlog: list[str] = []
        self._backlog_size = 0

    @property
    def vt(self) -> VirtualTerminal:
        """The emulator, with all queued output parsed (for inspecting cells and modes)."""
        self.catch_up()
        return self._vt

    @property
    def rows(self) -> int:
        """Lines on the screen."""
        return int(self._vt.lines)

    @property
    def cols(self) -> int:
        """Columns on the screen."""
        return int(self._vt.columns)

    @property
    def backlog(self) -> int:
        """Characters of output not yet parsed."""
        return self._backlog_size

    def feed(self, text: str) -> None:
        """Queue output; cheap, parsing happens in ``catch_up``."""
        if text:
            self._backlog.append(text)
            self._backlog_size += len(text)
            if self._backlog_size > 2 * self._tail_limit:
                self._compact()

    def catch_up(self, budget: int | None = None) -> bool:
        """Parse queued output, at most ``budget`` characters; True when none is left."""
        if self._backlog_size > self._tail_limit:
            self._compact()
        while self._backlog and (budget is None or budget > 0):
            text = self._backlog.pop(0)
            if budget is not None and len(text) > budget:
                self._backlog.insert(0, text[budget:])
                text = text[:budget]
            self._backlog_size -= len(text)
            if budget is not None:
                budget -= len(text)
            self._parse(text)
        return not self._backlog

    def resize(self, rows: int, cols: int) -> None:
        """Change the size (output so far is parsed at the old size first)."""
        self.catch_up()
        self._vt.resize(rows, cols)

    def redraw(self) -> str:
        """Escape sequences that rebuild this screen in a fresh terminal (see ``redraw``)."""
        self.catch_up()
        return render_redraw(self._vt)

    def display(self) -> list[str]:
        """The visible lines as plain text (after parsing all queued output)."""
        self.catch_up()
        return list(self._vt.display)

    def history_text(self) -> list[str]:
        """The scrollback lines as plain text, oldest first."""
        self.catch_up()
        return ["".join(line[x].data for x in range(self.cols)) for line in self._vt.history]

    def _parse(self, text: str) -> None:
        try:
            self._stream.feed(text)
        except Exception:
            # Hostile or broken output must not take the terminal down with the emulator.
            _log.exception("terminal emulator failed on output; resetting it")
            self._stream = pyte.Stream(self._vt)

    def _compact(self) -> None:
        text = "".join(self._backlog)
        cut = _tail_start(text, self._scrollback + self.rows, self.cols, self._tail_limit)
        kept = _CLEAN_SLATE + _skipped_state(text[:cut]) + text[cut:]
        self._backlog = [kept]
        self._backlog_size = len(kept)
