"""Text operations: the op type, normal form, apply, transform, compose (protocol.md §5.2–§5.3).

An op is a sequence of components read against a document with a cursor starting at 0:
``int`` n keeps (skips) n code points, ``str`` s inserts s, ``Delete(n)`` drops n code points;
text after the last component is kept. These are exactly ot-text-unicode's ``n``, ``"s"`` and
``{d: n}``, and for valid normalised ops every function here returns what that package returns.
Lengths count code points (Python ``str`` indices), so an astral character counts 1.

This module is pure: it owns no document state (see ``document.py``) and no text storage (see
``text.py``); it imports nothing of the project but ``goval.errors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from goval.errors import OTError

__all__ = [
    "Component",
    "Delete",
    "Op",
    "Side",
    "apply",
    "base_length",
    "check_fits",
    "compose",
    "delete_at",
    "insert_at",
    "is_normalized",
    "normalize",
    "transform",
    "transform_position",
]


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete ``n`` code points at the cursor (ot-text-unicode ``{d: n}``)."""

    n: int

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError(f"negative delete length {self.n}")


Component = int | str | Delete
Op = list[Component]
Side = Literal["left", "right"]


def _length(c: Component) -> int:
    if type(c) is int:
        return c
    if type(c) is str:
        return len(c)
    assert isinstance(c, Delete)
    return c.n


def _append(out: Op, c: Component) -> None:
    """Append ``c`` to ``out`` dropping empty pieces and merging with a same-kind neighbour."""
    kind = type(c)
    if kind is int:
        if c == 0:
            return
        if c < 0:  # type: ignore[operator]
            raise ValueError(f"negative skip length {c}")
    elif kind is str:
        if not c:
            return
    elif kind is Delete:
        if c.n == 0:  # type: ignore[union-attr]
            return
    else:
        raise TypeError(f"not an op component: {c!r}")
    if out and type(out[-1]) is kind:
        last = out[-1]
        if kind is Delete:
            out[-1] = Delete(last.n + c.n)  # type: ignore[union-attr]
        else:
            out[-1] = last + c  # type: ignore[operator]
    else:
        out.append(c)


def _trim(out: Op) -> Op:
    if out and type(out[-1]) is int:
        out.pop()
    return out


def normalize(op: Sequence[Component]) -> Op:
    """Return ``op`` in normal form: no empty pieces, no same-kind neighbours, no trailing skip."""
    out: Op = []
    for c in op:
        _append(out, c)
    return _trim(out)


def is_normalized(op: Sequence[Component]) -> bool:
    """Whether ``op`` is already in normal form."""
    return list(op) == normalize(op)


def base_length(op: Sequence[Component]) -> int:
    """The number of code points ``op`` reads from its document: skips plus deletes."""
    total = 0
    for c in op:
        if type(c) is int:
            total += c
        elif type(c) is Delete:
            total += c.n
    return total


def check_fits(op: Sequence[Component], length: int) -> None:
    """Raise the wire ``OTError`` unless ``op`` reads at most ``length`` code points."""
    needed = base_length(op)
    if needed > length:
        raise OTError(f"invalid op: too long for the document ({needed} > {length})")


def apply(text: str, op: Sequence[Component]) -> str:
    """Apply ``op`` to ``text``; ``OTError`` if its skips and deletes overrun the text."""
    check_fits(op, len(text))
    parts: list[str] = []
    pos = 0
    for c in op:
        if type(c) is int:
            parts.append(text[pos : pos + c])
            pos += c
        elif type(c) is str:
            parts.append(c)
        else:
            pos += _length(c)
    parts.append(text[pos:])
    return "".join(parts)


def insert_at(pos: int, text: str) -> Op:
    """The normalised op inserting ``text`` at code point ``pos``."""
    return normalize([pos, text])


def delete_at(pos: int, n: int) -> Op:
    """The normalised op deleting ``n`` code points from ``pos``."""
    return normalize([pos, Delete(n)])


class _Reader:
    """Hands out pieces of an op's components, splitting skips, deletes and (optionally) inserts.

    Once the op is exhausted every request for k yields ``skip k``, as §5.3 requires.
    """

    __slots__ = ("idx", "offset", "op")

    def __init__(self, op: Sequence[Component]) -> None:
        self.op = op
        self.idx = 0
        self.offset = 0

    def peek_is_insert(self) -> bool:
        return self.idx < len(self.op) and type(self.op[self.idx]) is str

    def take(self, k: int, split_inserts: bool) -> Component:
        """Take a piece of at most ``k`` code points (inserts whole unless ``split_inserts``)."""
        if self.idx >= len(self.op):
            return k
        c = self.op[self.idx]
        if type(c) is str and not split_inserts:
            self.idx += 1
            return c
        remaining = _length(c) - self.offset
        if remaining <= k:
            piece = remaining
            self.idx += 1
            start, self.offset = self.offset, 0
        else:
            piece = k
            start = self.offset
            self.offset += k
        if type(c) is int:
            return piece
        if type(c) is str:
            return c[start : start + piece]
        return Delete(piece)

    def take_rest(self) -> Component | None:
        """The remainder of the current component, or None once the op is exhausted."""
        if self.idx >= len(self.op):
            return None
        c = self.op[self.idx]
        start, self.offset = self.offset, 0
        self.idx += 1
        if start == 0:
            return c
        if type(c) is int:
            return c - start
        if type(c) is str:
            return c[start:]
        return Delete(_length(c) - start)


def _drain(reader: _Reader, out: Op) -> Op:
    rest = reader.take_rest()
    while rest is not None:
        _append(out, rest)
        rest = reader.take_rest()
    return _trim(out)


def transform(op: Sequence[Component], other: Sequence[Component], side: Side) -> Op:
    """Rebase ``op`` onto ``other`` (both based on the same text) exactly as in §5.3.

    ``side`` breaks insert ties: ``left`` puts op's insert first, ``right`` puts other's first.
    """
    if side != "left" and side != "right":
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")
    out: Op = []
    reader = _Reader(op)
    for c in other:
        if type(c) is int:
            n = c
            while n > 0:
                piece = reader.take(n, split_inserts=False)
                _append(out, piece)
                if type(piece) is not str:
                    n -= _length(piece)
        elif type(c) is str:
            if side == "left" and reader.peek_is_insert():
                _append(out, reader.take(0, split_inserts=False))
            _append(out, len(c))
        else:
            n = _length(c)
            while n > 0:
                piece = reader.take(n, split_inserts=False)
                if type(piece) is str:
                    _append(out, piece)
                else:
                    n -= _length(piece)
    return _drain(reader, out)


def compose(a: Sequence[Component], b: Sequence[Component]) -> Op:
    """The single op equivalent to applying ``a`` then ``b``; normalised."""
    out: Op = []
    reader = _Reader(a)
    for c in b:
        if type(c) is int:
            n = c
            while n > 0:
                piece = reader.take(n, split_inserts=True)
                _append(out, piece)
                if type(piece) is not Delete:
                    n -= _length(piece)
        elif type(c) is str:
            _append(out, c)
        else:
            n = _length(c)
            while n > 0:
                piece = reader.take(n, split_inserts=True)
                if type(piece) is int:
                    _append(out, Delete(piece))
                    n -= piece
                elif type(piece) is str:
                    n -= len(piece)  # deleting text a inserted: both vanish
                else:
                    _append(out, piece)
    return _drain(reader, out)


def transform_position(pos: int, op: Sequence[Component]) -> int:
    """Move a code-point position through ``op`` (ot-text-unicode ``transformPosition``).

    An insert exactly at ``pos`` leaves the position before it.
    """
    cursor = 0
    for c in op:
        if pos <= cursor:
            break
        if type(c) is int:
            cursor += c
        elif type(c) is str:
            cursor += len(c)
            pos += len(c)
        else:
            pos -= min(_length(c), pos - cursor)
    return pos
