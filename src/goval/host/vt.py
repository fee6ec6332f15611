"""The terminal emulator behind redraws: ``pyte.Screen`` plus what goval needs from xterm.

Owns three additions to pyte, all about matching what the browser's xterm.js shows:

* the alternate screen (private modes 47, 1047, 1049): a separate buffer, no scrollback while
  it is active, the main buffer (and for 1049 the cursor) restored on exit;
* scrollback of the lines scrolled off the top of a full-height scroll region (xterm's rule),
  bounded, cleared by ``ESC [ 3 J`` which, unlike in plain pyte, leaves the screen alone;
* a fast path for drawing runs of printable ASCII (pyte's per-character ``draw`` runs at
  ~0.3 MB/s; the bulk path is several times faster and gives identical cells).

It does not decode bytes, render escape sequences or know about processes.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

import pyte
from pyte import modes as mo
from pyte.charsets import LAT1_MAP
from pyte.screens import Char, Margins, StaticDefaultDict

__all__ = ["ALT_SCREEN_MODES", "Line", "VirtualTerminal"]

ALT_SCREEN_MODES = frozenset({47, 1047, 1049})

Line = StaticDefaultDict[int, Char]


class _Glyphs(dict[str, Char]):
    """Cells for one set of attributes, made on first use (a run reuses them)."""

    def __init__(self, attrs: Char) -> None:
        super().__init__()
        self.attrs = attrs

    def __missing__(self, data: str) -> Char:
        cell = self.attrs._replace(data=data)
        self[data] = cell
        return cell


class VirtualTerminal(pyte.Screen):
    """A pyte screen with alternate screen, bounded scrollback and a fast ASCII path.

    Args:
        columns, lines: the size.
        scrollback: the most lines kept above the screen.
    """

    def __init__(self, columns: int, lines: int, scrollback: int = 1000) -> None:
        self.history: deque[Line] = deque(maxlen=scrollback)
        self.in_alt = False
        self.main_buffer: dict[int, Line] | None = None
        self._glyphs = _Glyphs(Char(" "))
        super().__init__(columns, lines)

    # -- alternate screen ------------------------------------------------------------------

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        super().set_mode(*modes, **kwargs)
        if kwargs.get("private") and ALT_SCREEN_MODES.intersection(modes) and not self.in_alt:
            if 1049 in modes:
                self.save_cursor()
            self.main_buffer = self.buffer
            self.buffer = self._new_buffer()
            self.in_alt = True
            self.dirty.update(range(self.lines))

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        super().reset_mode(*modes, **kwargs)
        if kwargs.get("private") and ALT_SCREEN_MODES.intersection(modes) and self.in_alt:
            self._leave_alt()
            if 1049 in modes:
                self.restore_cursor()

    def _leave_alt(self) -> None:
        assert self.main_buffer is not None
        self.buffer = self.main_buffer
        self.main_buffer = None
        self.in_alt = False
        for mode in ALT_SCREEN_MODES:
            self.mode.discard(mode << 5)
        self.dirty.update(range(self.lines))

    def _new_buffer(self) -> defaultdict[int, Line]:
        return defaultdict(lambda: StaticDefaultDict[int, Char](self.default_char))

    def reset(self) -> None:
        super().reset()
        self.history.clear()
        if self.in_alt:
            self.main_buffer = None
            self.in_alt = False

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        lines = lines or self.lines
        columns = columns or self.columns
        if self.main_buffer is not None:
            self.main_buffer = self._fit(self.main_buffer, lines, columns)
        super().resize(lines, columns)

    def _fit(self, buffer: dict[int, Line], lines: int, columns: int) -> dict[int, Line]:
        # The same clipping pyte applies to the active buffer: lines go from the top.
        drop = max(0, self.lines - lines)
        fitted = self._new_buffer()
        for y in range(lines):
            if y + drop in buffer:
                line = buffer[y + drop]
                for x in [x for x in line if x >= columns]:
                    del line[x]
                fitted[y] = line
        return fitted

    # -- scrollback ------------------------------------------------------------------------

    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if self.cursor.y == bottom and top == 0 and not self.in_alt:
            self.history.append(self.buffer[top])
        super().index()

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        if how == 3:
            # xterm: "erase saved lines" only; pyte would also wipe the screen.
            self.history.clear()
            return
        super().erase_in_display(how, *args, **kwargs)

    # -- fast drawing ----------------------------------------------------------------------

    def draw(self, data: str) -> None:
        if not self._can_draw_fast(data):
            super().draw(data)
            return
        cursor = self.cursor
        glyphs = self._glyphs
        if glyphs.attrs is not cursor.attrs:
            glyphs = self._glyphs = _Glyphs(cursor.attrs)
        columns = self.columns
        start, end = 0, len(data)
        while start < end:
            if cursor.x >= columns:
                self.dirty.add(cursor.y)
                self.carriage_return()
                self.linefeed()
            x = cursor.x
            take = min(columns - x, end - start)
            cells = map(glyphs.__getitem__, data[start : start + take])
            self.buffer[cursor.y].update(zip(range(x, x + take), cells, strict=True))
            cursor.x = x + take
            start += take
        self.dirty.add(cursor.y)

    def _can_draw_fast(self, data: str) -> bool:
        return (
            data.isascii()
            and data.isprintable()
            and (self.g1_charset if self.charset else self.g0_charset) is LAT1_MAP
            and mo.IRM not in self.mode
            and mo.DECAWM in self.mode
        )
