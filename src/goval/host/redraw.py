"""Rendering a ``VirtualTerminal`` as escape sequences that rebuild it in a fresh xterm.

Owns the exact bytes of the shell greeting (protocol §4.4, a **choice**): the title, then the
scrollback lines with their colours (none under the alternate screen), then the screen (under the
alternate screen: the main screen, its saved cursor, ``ESC[?1049h`` and the alternate screen),
then the scroll region, cursor position, pen and modes (application cursor keys, bracketed
paste, mouse reporting, hidden cursor, autowrap, insert). Lines are separated by CR LF and
trailing default blanks are trimmed. It is a rendering of state, never a replay of output.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyte import graphics as g
from pyte import modes as mo
from pyte.screens import Char

from goval.host.vt import Line, VirtualTerminal

__all__ = ["render_redraw", "sgr"]

ESC = "\x1b"
CSI = ESC + "["
RESET = CSI + "0m"

_FG_CODES = {name: code for code, name in (g.FG_ANSI | g.FG_AIXTERM).items()}
_BG_CODES = {name: code for code, name in (g.BG_ANSI | g.BG_AIXTERM).items()}
# pyte turns 256-colour indices into hex; map them back so the client's palette applies.
# Later (>= 16) indices win a tie: their RGB is fixed, the first 16 follow the theme.
_PALETTE = {hex_rgb: index for index, hex_rgb in enumerate(g.FG_BG_256)}
_ATTR_CODES = (("bold", 1), ("italics", 3), ("underscore", 4), ("blink", 5), ("reverse", 7))
# Private modes replayed when set (DECCKM, mouse reporting, focus events, bracketed paste).
_REPLAYED_PRIVATE_MODES = (1, 1000, 1002, 1003, 1004, 1005, 1006, 1015, 2004)


def _colour(value: str, names: dict[str, int], extended: int) -> str | None:
    if value == "default":
        return None
    if value in names:
        return str(names[value])
    if value in _PALETTE:
        return f"{extended};5;{_PALETTE[value]}"
    if len(value) == 6:
        try:
            r, gr, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            return None
        return f"{extended};2;{r};{gr};{b}"
    return None


def sgr(cell: Char) -> str:
    """The SGR sequence that sets exactly ``cell``'s attributes (starting from a reset)."""
    codes = ["0"]
    fg = _colour(cell.fg, _FG_CODES, 38)
    bg = _colour(cell.bg, _BG_CODES, 48)
    if fg:
        codes.append(fg)
    if bg:
        codes.append(bg)
    codes.extend(str(code) for attr, code in _ATTR_CODES if getattr(cell, attr))
    if cell.strikethrough:
        codes.append("9")
    return CSI + ";".join(codes) + "m"


def _is_blank(cell: Char) -> bool:
    return (
        cell.data == " "
        and cell.bg == "default"
        and not (cell.reverse or cell.underscore or cell.strikethrough)
    )


class _Writer:
    """Accumulates output and emits SGR only when the pen changes."""

    def __init__(self) -> None:
        self.parts: list[str] = [RESET]
        self.pen: tuple[object, ...] = Char(" ")[1:]

    def line(self, line: Line, columns: int) -> None:
        width = columns
        while width and _is_blank(line[width - 1]):
            width -= 1
        parts = self.parts
        for x in range(width):
            cell = line[x]
            if not cell.data:
                continue  # the second half of a wide character
            attrs = cell[1:]
            if attrs != self.pen:
                parts.append(sgr(cell))
                self.pen = attrs
            parts.append(cell.data)

    def newline(self) -> None:
        # Reset first: a coloured background would paint the new line when the client scrolls.
        self.reset_pen()
        self.parts.append("\r\n")

    def reset_pen(self) -> None:
        if self.pen != Char(" ")[1:]:
            self.parts.append(RESET)
            self.pen = Char(" ")[1:]

    def lines(self, lines: Iterable[Line], columns: int, *, last_newline: bool) -> None:
        first = True
        for line in lines:
            if not first:
                self.newline()
            first = False
            self.line(line, columns)
        if last_newline and not first:
            self.newline()


def _screen_lines(buffer: dict[int, Line], vt: VirtualTerminal) -> list[Line]:
    blank = Line(vt.default_char)
    return [buffer.get(y, blank) for y in range(vt.lines)]


def _cursor_to(vt: VirtualTerminal, x: int, y: int) -> str:
    if vt.margins is not None and mo.DECOM in vt.mode:
        y -= vt.margins.top
    return f"{CSI}{y + 1};{min(x, vt.columns - 1) + 1}H"


def _modes(vt: VirtualTerminal) -> str:
    parts: list[str] = []
    if vt.margins is not None and (vt.margins.top, vt.margins.bottom) != (0, vt.lines - 1):
        parts.append(f"{CSI}{vt.margins.top + 1};{vt.margins.bottom + 1}r")
    if mo.DECOM in vt.mode:
        parts.append(CSI + "?6h")
    parts.extend(f"{CSI}?{m}h" for m in _REPLAYED_PRIVATE_MODES if m << 5 in vt.mode)
    if mo.DECAWM not in vt.mode:
        parts.append(CSI + "?7l")
    if mo.IRM in vt.mode:
        parts.append(CSI + "4h")
    if mo.LNM in vt.mode:
        parts.append(CSI + "20h")
    return "".join(parts)


def _cursor_and_pen(vt: VirtualTerminal) -> str:
    cursor = vt.cursor
    text = _cursor_to(vt, cursor.x, cursor.y)
    if cursor.x >= vt.columns:
        # Pending wrap: rewrite the last cell so the client is in the same state.
        cell = vt.buffer[cursor.y][vt.columns - 1]
        text += sgr(cell) + (cell.data or " ")
    text += sgr(cursor.attrs)
    if mo.DECTCEM not in vt.mode:
        text += CSI + "?25l"
    return text


def render_redraw(vt: VirtualTerminal) -> str:
    """Escape sequences that turn a fresh terminal of the same size into ``vt``'s state."""
    out = _Writer()
    if vt.title:
        out.parts.append(f"{ESC}]2;{vt.title}\x07")
    if vt.in_alt and vt.main_buffer is not None:
        out.lines(_screen_lines(vt.main_buffer, vt), vt.columns, last_newline=False)
        out.reset_pen()
        saved = vt.savepoints[-1].cursor if vt.savepoints else vt.cursor
        out.parts.append(_cursor_to(vt, saved.x, saved.y) + CSI + "?1049h" + CSI + "H")
    else:
        out.lines(vt.history, vt.columns, last_newline=True)
    out.lines(_screen_lines(vt.buffer, vt), vt.columns, last_newline=False)
    out.reset_pen()
    return "".join(out.parts) + _modes(vt) + _cursor_and_pen(vt)
