"""The document text: an immutable rope whose every node caches length, UTF-8 size and CRC-32.

protocol.md §5.4 puts the CRC-32 of the whole text in every packet. A Python ``str`` would make
each keystroke cost O(document) twice (splice, then rehash). Here the text is an AVL-balanced
binary tree of chunks (leaves of at most ``LEAF_MAX`` code points); a node caches its code-point
length, its UTF-8 byte length and the ``zlib.crc32`` of its UTF-8, the latter joined from its
children with :func:`goval.ot.crc.crc32_combine`. An edit rebuilds one root-to-leaf path, so apply
plus checksum is O(log n), and :meth:`Text.crc32` is a field read.

``Text`` is persistent: :meth:`Text.apply` returns a new ``Text`` sharing every untouched node
with the old one, which stays valid (a writer may keep flushing an old version while edits go on).
The text must be valid Unicode scalar values (no lone surrogates): the wire cannot carry others.
This module owns text storage only; op semantics live in ``operation.py``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence

from goval.ot.crc import crc32_combine
from goval.ot.operation import Component, Delete, apply as apply_to_str, check_fits

__all__ = ["LEAF_MAX", "Text"]

LEAF_MAX = 4096  # code points per leaf; bigger leaves mean a shallower tree but costlier splices
_LEAF_TARGET = LEAF_MAX // 2  # chunk size when (re)building from a string
_LEAF_MIN = LEAF_MAX // 8  # a leaf this small is merged into its sibling leaf when they meet
# An op with more edits than this is cheaper to apply by rebuilding from a string.
_MIN_EDITS_FOR_REBUILD = 16
_CODE_POINTS_PER_EDIT_FOR_REBUILD = 4096


class _Leaf:
    __slots__ = ("crc", "n", "nbytes", "text")
    height = 0

    def __init__(self, text: str) -> None:
        data = text.encode()
        self.text = text
        self.n = len(text)
        self.nbytes = len(data)
        self.crc = zlib.crc32(data)


class _Branch:
    __slots__ = ("crc", "height", "left", "n", "nbytes", "right")

    def __init__(self, left: _Node, right: _Node) -> None:
        self.left = left
        self.right = right
        self.n = left.n + right.n
        self.nbytes = left.nbytes + right.nbytes
        self.crc = crc32_combine(left.crc, right.crc, right.nbytes)
        self.height = max(left.height, right.height) + 1


_Node = _Leaf | _Branch


def _make(left: _Node, right: _Node) -> _Node:
    """A node over two subtrees, merging two leaves when one of them has become small."""
    if (
        type(left) is _Leaf
        and type(right) is _Leaf
        and (left.n < _LEAF_MIN or right.n < _LEAF_MIN)
        and left.n + right.n <= LEAF_MAX
    ):
        return _Leaf(left.text + right.text)
    return _Branch(left, right)


def _balanced(a: _Node, b: _Node) -> _Node:
    """``_make(a, b)`` with one AVL rotation when the heights differ by two."""
    if a.height > b.height + 1:
        assert isinstance(a, _Branch)
        if a.left.height >= a.right.height:
            return _make(a.left, _make(a.right, b))
        inner = a.right
        assert isinstance(inner, _Branch)
        return _make(_make(a.left, inner.left), _make(inner.right, b))
    if b.height > a.height + 1:
        assert isinstance(b, _Branch)
        if b.right.height >= b.left.height:
            return _make(_make(a, b.left), b.right)
        inner = b.left
        assert isinstance(inner, _Branch)
        return _make(_make(a, inner.left), _make(inner.right, b.right))
    return _make(a, b)


def _join(a: _Node | None, b: _Node | None) -> _Node | None:
    """Concatenate two balanced trees of any heights into one balanced tree."""
    if a is None:
        return b
    if b is None:
        return a
    if a.height > b.height + 1:
        assert isinstance(a, _Branch)
        joined = _join(a.right, b)
        assert joined is not None
        return _balanced(a.left, joined)
    if b.height > a.height + 1:
        assert isinstance(b, _Branch)
        joined = _join(a, b.left)
        assert joined is not None
        return _balanced(joined, b.right)
    return _make(a, b)


def _build_chunks(chunks: Sequence[str], lo: int, hi: int) -> _Node:
    if hi - lo == 1:
        return _Leaf(chunks[lo])
    mid = (lo + hi) // 2
    return _make(_build_chunks(chunks, lo, mid), _build_chunks(chunks, mid, hi))


def _build(text: str) -> _Node | None:
    if not text:
        return None
    if len(text) <= LEAF_MAX:
        return _Leaf(text)
    chunks = [text[i : i + _LEAF_TARGET] for i in range(0, len(text), _LEAF_TARGET)]
    return _build_chunks(chunks, 0, len(chunks))


def _replace(node: _Node, start: int, end: int, insert: str) -> _Node | None:
    """``node`` with code points ``start:end`` replaced by ``insert``."""
    if start == 0 and end == node.n:
        return _build(insert)
    if type(node) is _Leaf:
        text = node.text
        return _build(text[:start] + insert + text[end:])
    assert isinstance(node, _Branch)
    split = node.left.n
    if end <= split:
        return _join(_replace(node.left, start, end, insert), node.right)
    if start >= split:
        return _join(node.left, _replace(node.right, start - split, end - split, insert))
    left = _replace(node.left, start, split, insert)
    return _join(left, _replace(node.right, 0, end - split, ""))


def _edits(op: Sequence[Component]) -> list[tuple[int, int, str]]:
    """``op`` as ``(start, end, insert)`` replacements in the original text's coordinates."""
    edits: list[tuple[int, int, str]] = []
    pos = 0
    for c in op:
        if type(c) is int:
            pos += c
            continue
        end = pos + c.n if type(c) is Delete else pos
        insert = c if type(c) is str else ""
        if edits and edits[-1][1] == pos:  # touches the previous edit: extend it
            start, _, previous = edits.pop()
            edits.append((start, end, previous + insert))
        else:
            edits.append((pos, end, insert))
        pos = end
    return edits


def _leaves(node: _Node | None) -> Iterator[_Leaf]:
    stack = [node] if node is not None else []
    while stack:
        top = stack.pop()
        if type(top) is _Leaf:
            yield top
        else:
            assert isinstance(top, _Branch)
            stack.append(top.right)
            stack.append(top.left)


def _collect(node: _Node, start: int, end: int, out: list[str]) -> None:
    if type(node) is _Leaf:
        out.append(node.text[start:end])
        return
    assert isinstance(node, _Branch)
    split = node.left.n
    if start < split:
        _collect(node.left, start, min(end, split), out)
    if end > split:
        _collect(node.right, max(start - split, 0), end - split, out)


class Text:
    """An immutable text with O(log n) edits and an always-current CRC-32 of its UTF-8."""

    __slots__ = ("_root",)

    def __init__(self, root: _Node | None = None) -> None:
        self._root = root

    @classmethod
    def from_str(cls, text: str) -> Text:
        """The ``Text`` holding ``text``."""
        return cls(_build(text))

    def __len__(self) -> int:
        """Length in code points."""
        return self._root.n if self._root is not None else 0

    def __str__(self) -> str:
        return "".join(leaf.text for leaf in _leaves(self._root))

    def __repr__(self) -> str:
        return f"<Text {len(self)} code points crc32={self.crc32()}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Text):
            return NotImplemented
        if len(self) != len(other) or self.crc32() != other.crc32():
            return False
        return str(self) == str(other)

    __hash__ = None  # type: ignore[assignment]

    def crc32(self) -> int:
        """``zlib.crc32`` of the whole text's UTF-8, unsigned."""
        return self._root.crc if self._root is not None else 0

    def utf8_length(self) -> int:
        """Length of the whole text's UTF-8 in bytes."""
        return self._root.nbytes if self._root is not None else 0

    def height(self) -> int:
        """Height of the underlying tree (0 for one chunk); exposed for tests and benchmarks."""
        return self._root.height if self._root is not None else 0

    def slice(self, start: int, end: int) -> str:
        """Code points ``start:end`` (clamped to the text like ``str`` slicing; no negatives)."""
        if start < 0 or end < 0:
            raise ValueError("Text.slice takes non-negative positions")
        end = min(end, len(self))
        if self._root is None or start >= end:
            return ""
        out: list[str] = []
        _collect(self._root, start, end, out)
        return "".join(out)

    def apply(self, op: Sequence[Component]) -> Text:
        """A new ``Text`` with ``op`` applied; ``OTError`` if the op overruns the text."""
        check_fits(op, len(self))
        edits = _edits(op)
        if (
            len(edits) > _MIN_EDITS_FOR_REBUILD
            and len(edits) * _CODE_POINTS_PER_EDIT_FOR_REBUILD > len(self)
        ):
            return Text.from_str(apply_to_str(str(self), op))
        root = self._root
        for start, end, insert in reversed(edits):
            root = _replace(root, start, end, insert) if root is not None else _build(insert)
        return Text(root)
