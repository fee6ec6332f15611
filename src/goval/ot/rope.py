"""The balanced tree under ``Text``: immutable chunk leaves, AVL branches, lazily joined CRCs.

A leaf holds up to ``LEAF_MAX`` code points and caches its code-point length, UTF-8 byte length
and ``zlib.crc32``. A branch caches the sums of its children's lengths, its height, and the CRC
of its whole text — computed on first demand (:func:`crc_of`) from the children's with
``crc32_combine``, because ``Text`` usually derives the document CRC from a cached finger and
never needs the CRCs of the branches it just rebuilt.

Nodes are never mutated after construction except to fill in that lazy CRC, so trees share
subtrees freely. This module owns the tree algebra only (build, join, replace, walk); the
edit/finger logic and the public API are ``text.py``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence

from goval.ot.crc import crc32_combine

__all__ = [
    "LEAF_MAX",
    "Branch",
    "Leaf",
    "Node",
    "build",
    "collect",
    "crc_of",
    "join",
    "leaves",
    "replace",
]

LEAF_MAX = 4096  # code points per leaf: bigger leaves mean a shallower tree, costlier splices
_LEAF_TARGET = LEAF_MAX // 2  # chunk size when building from a string
_LEAF_MIN = LEAF_MAX // 8  # a leaf this small is merged with a sibling leaf when they meet


class Leaf:
    """A chunk of text with its lengths and CRC."""

    __slots__ = ("crc", "n", "nbytes", "text")
    height = 0

    def __init__(self, text: str) -> None:
        data = text.encode()
        self.text = text
        self.n = len(text)
        self.nbytes = len(data)
        self.crc: int | None = zlib.crc32(data)


class Branch:
    """Two subtrees; ``crc`` is None until :func:`crc_of` computes it."""

    __slots__ = ("crc", "height", "left", "n", "nbytes", "right")

    def __init__(self, left: Node, right: Node, n: int, nbytes: int, height: int) -> None:
        self.left = left
        self.right = right
        self.n = n
        self.nbytes = nbytes
        self.height = height
        self.crc: int | None = None


Node = Leaf | Branch


def crc_of(node: Node) -> int:
    """The CRC-32 of ``node``'s UTF-8, computing (and caching) lazy branch CRCs on the way."""
    crc = node.crc
    if crc is None:
        assert isinstance(node, Branch)
        crc = crc32_combine(crc_of(node.left), crc_of(node.right), node.right.nbytes)
        node.crc = crc
    return crc


def _make(left: Node, right: Node) -> Node:
    """A node over two subtrees, merging two leaves when one of them has become small."""
    if (
        type(left) is Leaf
        and type(right) is Leaf
        and (left.n < _LEAF_MIN or right.n < _LEAF_MIN)
        and left.n + right.n <= LEAF_MAX
    ):
        return Leaf(left.text + right.text)
    height = (left.height if left.height > right.height else right.height) + 1
    return Branch(left, right, left.n + right.n, left.nbytes + right.nbytes, height)


def _balanced(a: Node, b: Node) -> Node:
    """``_make(a, b)`` with one AVL rotation when the heights differ by two."""
    if a.height > b.height + 1:
        assert isinstance(a, Branch)
        if a.left.height >= a.right.height:
            return _make(a.left, _make(a.right, b))
        inner = a.right
        assert isinstance(inner, Branch)
        return _make(_make(a.left, inner.left), _make(inner.right, b))
    if b.height > a.height + 1:
        assert isinstance(b, Branch)
        if b.right.height >= b.left.height:
            return _make(_make(a, b.left), b.right)
        inner = b.left
        assert isinstance(inner, Branch)
        return _make(_make(a, inner.left), _make(inner.right, b.right))
    return _make(a, b)


def join(a: Node | None, b: Node | None) -> Node | None:
    """Concatenate two balanced trees of any heights into one balanced tree."""
    if a is None:
        return b
    if b is None:
        return a
    if a.height > b.height + 1:
        assert isinstance(a, Branch)
        right = join(a.right, b)
        assert right is not None
        return _balanced(a.left, right)
    if b.height > a.height + 1:
        assert isinstance(b, Branch)
        left = join(a, b.left)
        assert left is not None
        return _balanced(left, b.right)
    return _make(a, b)


def _build_chunks(chunks: Sequence[str], lo: int, hi: int) -> Node:
    if hi - lo == 1:
        return Leaf(chunks[lo])
    mid = (lo + hi) // 2
    return _make(_build_chunks(chunks, lo, mid), _build_chunks(chunks, mid, hi))


def build(text: str) -> Node | None:
    """A balanced tree holding ``text`` (None for the empty text)."""
    if not text:
        return None
    if len(text) <= LEAF_MAX:
        return Leaf(text)
    chunks = [text[i : i + _LEAF_TARGET] for i in range(0, len(text), _LEAF_TARGET)]
    return _build_chunks(chunks, 0, len(chunks))


def replace(node: Node, start: int, end: int, insert: str) -> Node | None:
    """``node`` with code points ``start:end`` replaced by ``insert``, rebalanced."""
    if start == 0 and end == node.n:
        return build(insert)
    if type(node) is Leaf:
        text = node.text
        return build(text[:start] + insert + text[end:])
    assert isinstance(node, Branch)
    split = node.left.n
    if end <= split:
        return join(replace(node.left, start, end, insert), node.right)
    if start >= split:
        return join(node.left, replace(node.right, start - split, end - split, insert))
    left = replace(node.left, start, split, insert)
    return join(left, replace(node.right, 0, end - split, ""))


def leaves(node: Node | None) -> Iterator[Leaf]:
    """The leaves of ``node`` in text order."""
    stack = [node] if node is not None else []
    while stack:
        top = stack.pop()
        if type(top) is Leaf:
            yield top
        else:
            assert isinstance(top, Branch)
            stack.append(top.right)
            stack.append(top.left)


def collect(node: Node, start: int, end: int, out: list[str]) -> None:
    """Append the pieces of code points ``start:end`` of ``node`` (0 <= start < end <= n)."""
    if type(node) is Leaf:
        out.append(node.text[start:end])
        return
    assert isinstance(node, Branch)
    split = node.left.n
    if start < split:
        collect(node.left, start, min(end, split), out)
    if end > split:
        collect(node.right, max(start - split, 0), end - split, out)
