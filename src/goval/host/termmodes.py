"""Line-discipline settings of a PTY: ``stty sane`` and goval's pipe mode, as termios edits.

Owns the flag sets of protocol §4.4 (``saneTerm``; ``PTYConfig{pipeMode}`` = ``stty raw icrnl
isig -echo``). Each function edits a ``termios.tcgetattr`` list in place; applying it to an fd
is the caller's job. ``IUTF8`` is added to sane so that erasing a multi-byte character in
canonical mode erases all of it (goval's output is UTF-8).
"""

from __future__ import annotations

import termios as t

__all__ = ["pipe_mode_attrs", "sane_attrs"]

_IFLAG, _OFLAG, _CFLAG, _LFLAG, _CC = 0, 1, 2, 3, 6
# Linux values; typeshed does not list these two constants.
_IUTF8: int = getattr(t, "IUTF8", 0o40000)
_EXTPROC: int = getattr(t, "EXTPROC", 0o200000)

_SANE_IFLAG_ON = t.BRKINT | t.ICRNL | t.IMAXBEL | _IUTF8
_SANE_IFLAG_OFF = t.IGNBRK | t.INLCR | t.IGNCR | t.IXOFF | t.IUCLC | t.IXANY
_SANE_OFLAG_ON = t.OPOST | t.ONLCR
_SANE_OFLAG_OFF = (t.OLCUC | t.OCRNL | t.ONOCR | t.ONLRET | t.OFILL | t.OFDEL) | (
    t.NLDLY | t.CRDLY | t.TABDLY | t.BSDLY | t.VTDLY | t.FFDLY
)
_SANE_LFLAG_ON = t.ISIG | t.ICANON | t.IEXTEN | t.ECHO | t.ECHOE | t.ECHOK | t.ECHOCTL | t.ECHOKE
_SANE_LFLAG_OFF = t.ECHONL | t.NOFLSH | t.TOSTOP | t.ECHOPRT | t.XCASE | t.FLUSHO | _EXTPROC

# Control characters as stty sane sets them (^C, ^\, DEL, ^U, ^D, ^Q, ^S, ^Z, ^R, ^W, ^V, ^O).
_SANE_CC = {
    t.VINTR: 0x03,
    t.VQUIT: 0x1C,
    t.VERASE: 0x7F,
    t.VKILL: 0x15,
    t.VEOF: 0x04,
    t.VSTART: 0x11,
    t.VSTOP: 0x13,
    t.VSUSP: 0x1A,
    t.VREPRINT: 0x12,
    t.VWERASE: 0x17,
    t.VLNEXT: 0x16,
    t.VDISCARD: 0x0F,
    t.VEOL: 0,
    t.VEOL2: 0,
}

_RAW_IFLAG_OFF = (
    t.IGNBRK | t.BRKINT | t.IGNPAR | t.PARMRK | t.INPCK | t.ISTRIP | t.INLCR | t.IGNCR | t.ICRNL
) | (t.IXON | t.IXOFF | t.IUCLC | t.IXANY | t.IMAXBEL)
_RAW_LFLAG_OFF = t.ICANON | t.ISIG | t.XCASE | t.IEXTEN


def _set_cc(attrs: list[int | list[bytes | int]], index: int, value: int) -> None:
    cc = attrs[_CC]
    assert isinstance(cc, list)
    # Canonical-mode slots hold 1-byte bytes objects; VMIN/VTIME may be ints after raw mode.
    cc[index] = value if isinstance(cc[index], int) else bytes([value])


def _edit(attrs: list[int | list[bytes | int]], index: int, on: int, off: int) -> None:
    value = attrs[index]
    assert isinstance(value, int)
    attrs[index] = (value & ~off) | on


def sane_attrs(attrs: list[int | list[bytes | int]]) -> None:
    """Edit ``attrs`` to what ``stty sane`` (plus ``iutf8``) would set."""
    _edit(attrs, _IFLAG, _SANE_IFLAG_ON, _SANE_IFLAG_OFF)
    _edit(attrs, _OFLAG, _SANE_OFLAG_ON, _SANE_OFLAG_OFF)
    _edit(attrs, _CFLAG, t.CREAD, 0)
    _edit(attrs, _LFLAG, _SANE_LFLAG_ON, _SANE_LFLAG_OFF)
    for index, value in _SANE_CC.items():
        _set_cc(attrs, index, value)
    _set_cc(attrs, t.VMIN, 1)
    _set_cc(attrs, t.VTIME, 0)


def pipe_mode_attrs(attrs: list[int | list[bytes | int]]) -> None:
    """Edit ``attrs`` to ``stty raw icrnl isig -echo``: bytes pass through unbuffered and
    unechoed, but CR still becomes NL and ^C still interrupts."""
    sane_attrs(attrs)
    _edit(attrs, _IFLAG, t.ICRNL, _RAW_IFLAG_OFF)
    _edit(attrs, _OFLAG, 0, t.OPOST)
    _edit(attrs, _LFLAG, t.ISIG, _RAW_LFLAG_OFF | t.ECHO)
    _set_cc(attrs, t.VMIN, 1)
    _set_cc(attrs, t.VTIME, 0)
