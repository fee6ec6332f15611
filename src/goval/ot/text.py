"""``Text``: the document text, with O(log n) edits and an O(1)-per-edit CRC-32 of its UTF-8.

protocol.md §5.4 puts the CRC-32 of the whole text in every packet. With a plain ``str`` each
keystroke would cost O(document) twice (splice, then rehash). ``Text`` is a balanced rope
(``rope.py``) plus a **finger**: the path to the leaf last edited, with the CRCs of the text
before and after that leaf. An edit inside that leaf (typing is local) replaces only the leaf,
defers copying the root-to-leaf path until the tree itself is needed, and derives the document
CRC from the finger with two ``crc32_shift`` calls — its cost does not depend on the document
size. An edit elsewhere copies the pending path and builds a new finger with O(log n) CRC
combines; an edit spanning leaves, or one that overflows or empties its leaf, goes through the
general rebalancing ``rope.replace``.

``Text`` is persistent: :meth:`Text.apply` returns a new ``Text`` sharing every untouched node
with the old one, which stays valid (a writer may flush an old version while edits go on).
The text must be valid Unicode scalar values (no lone surrogates): the wire carries no others.
"""

from __future__ import annotations

from collections.abc import Sequence

from goval.ot import rope
from goval.ot.crc import crc32_shift
from goval.ot.operation import Component, Delete, check_fits
from goval.ot.operation import apply as apply_to_str

__all__ = ["Text"]

# An op with more edits than this is cheaper to apply by rebuilding from a string.
_MIN_EDITS_FOR_REBUILD = 16
_CODE_POINTS_PER_EDIT_FOR_REBUILD = 4096

_Edit = tuple[int, int, str]  # (start, end, insert) in the original text's code points


class _Finger:
    """The path to one leaf and the CRCs of the text around it."""

    __slots__ = (
        "dbytes",
        "dn",
        "leaf",
        "path",
        "pending",
        "prefix_shifted",
        "start",
        "suffix_bytes",
        "suffix_crc",
        "went_left",
    )

    def __init__(
        self,
        path: list[rope.Branch],
        went_left: list[bool],
        leaf: rope.Leaf,
        start: int,
        around: tuple[int, int, int],
        pending: tuple[int, int] | None = None,
    ) -> None:
        self.path = path  # root first, the leaf's parent last
        self.went_left = went_left
        self.leaf = leaf
        self.start = start  # code-point offset of the leaf
        # crc(prefix) * x^(8 len(suffix)), crc(suffix), len(suffix): none depends on the leaf.
        self.prefix_shifted, self.suffix_crc, self.suffix_bytes = around
        # None: the path's nodes hold ``leaf``. Else the path still holds an older leaf and
        # (code points, bytes) is what ``leaf`` adds to every node on it: copying the path is
        # deferred until the tree itself is needed, so local typing never copies it.
        self.dn, self.dbytes = pending if pending is not None else (0, 0)
        self.pending = pending is not None

    def contains(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.start + self.leaf.n

    def crc(self) -> int:
        leaf = self.leaf
        assert leaf.crc is not None
        return (
            crc32_shift(self.prefix_shifted, leaf.nbytes)
            ^ crc32_shift(leaf.crc, self.suffix_bytes)
            ^ self.suffix_crc
        )


def _locate(root: rope.Node, root_crc: int, start: int, end: int) -> _Finger | None:
    """The finger on the one leaf holding code points ``start..end``, or None if they span two."""
    path: list[rope.Branch] = []
    went_left: list[bool] = []
    node = root
    offset = 0
    while type(node) is not rope.Leaf:
        assert isinstance(node, rope.Branch)
        split = node.left.n
        path.append(node)
        if end - offset <= split:
            went_left.append(True)
            node = node.left
        elif start - offset >= split:
            went_left.append(False)
            offset += split
            node = node.right
        else:
            return None
    assert isinstance(node, rope.Leaf)
    return _Finger(path, went_left, node, offset, _around(path, went_left, node, root_crc))


def _around(
    path: list[rope.Branch], went_left: list[bool], leaf: rope.Leaf, root_crc: int
) -> tuple[int, int, int]:
    """The finger CRCs: combine the right siblings into the suffix, derive the prefix from that.

    crc(all) = crc(prefix) x^(8 len(leaf + suffix)) + crc(leaf) x^(8 len(suffix)) + crc(suffix),
    so the prefix needs no combines of its own (and left siblings need no lazy CRCs).
    """
    suffix_crc = suffix_bytes = 0
    for i in range(len(path) - 1, -1, -1):
        if went_left[i]:
            sibling = path[i].right
            suffix_crc = crc32_shift(suffix_crc, sibling.nbytes) ^ rope.crc_of(sibling)
            suffix_bytes += sibling.nbytes
    assert leaf.crc is not None
    shifted = root_crc ^ crc32_shift(leaf.crc, suffix_bytes) ^ suffix_crc
    return crc32_shift(shifted, -leaf.nbytes), suffix_crc, suffix_bytes


def _splice_leaf(finger: _Finger, edits: list[_Edit]) -> str:
    text = finger.leaf.text
    base = finger.start
    parts: list[str] = []
    pos = 0
    for start, end, insert in edits:
        parts.append(text[pos : start - base])
        parts.append(insert)
        pos = end - base
    parts.append(text[pos:])
    return "".join(parts)


def _replace_leaf(finger: _Finger, leaf: rope.Leaf) -> _Finger:
    """The finger with a new leaf, its path copy deferred (see ``_Finger.pending``)."""
    dn = finger.dn + leaf.n - finger.leaf.n
    dbytes = finger.dbytes + leaf.nbytes - finger.leaf.nbytes
    around = (finger.prefix_shifted, finger.suffix_crc, finger.suffix_bytes)
    return _Finger(finger.path, finger.went_left, leaf, finger.start, around, (dn, dbytes))


def _copy_path(finger: _Finger) -> tuple[rope.Node, _Finger]:
    """Materialise a pending finger: copy its path over its leaf with adjusted lengths."""
    dn, dbytes = finger.dn, finger.dbytes
    node: rope.Node = finger.leaf
    path = finger.path.copy()
    for i in range(len(path) - 1, -1, -1):
        old = path[i]
        if finger.went_left[i]:
            node = rope.Branch(node, old.right, old.n + dn, old.nbytes + dbytes, old.height)
        else:
            node = rope.Branch(old.left, node, old.n + dn, old.nbytes + dbytes, old.height)
        path[i] = node
    around = (finger.prefix_shifted, finger.suffix_crc, finger.suffix_bytes)
    return node, _Finger(path, finger.went_left, finger.leaf, finger.start, around)


def _edits(op: Sequence[Component]) -> list[_Edit]:
    """``op`` as ordered, non-overlapping replacements in the original text's coordinates."""
    edits: list[_Edit] = []
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


class Text:
    """An immutable text with O(log n) edits and an always-available CRC-32 of its UTF-8."""

    __slots__ = ("_crc", "_finger", "_root")

    def __init__(self, root: rope.Node | None = None, finger: _Finger | None = None) -> None:
        self._root = root  # stale while the finger is pending: use _tree()
        self._finger = finger
        self._crc: int | None = None

    @classmethod
    def from_str(cls, text: str) -> Text:
        """The ``Text`` holding ``text``."""
        return cls(rope.build(text))

    def _tree(self) -> rope.Node | None:
        finger = self._finger
        if finger is not None and finger.pending:
            # Caching the copied path changes no observable state: the text stays the same.
            self._root, self._finger = _copy_path(finger)
        return self._root

    def __len__(self) -> int:
        """Length in code points."""
        finger = self._finger
        if finger is not None and finger.pending:
            return (finger.path[0].n + finger.dn) if finger.path else finger.leaf.n
        return self._root.n if self._root is not None else 0

    def __str__(self) -> str:
        return "".join(leaf.text for leaf in rope.leaves(self._tree()))

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
        if self._crc is None:
            if self._finger is not None:
                self._crc = self._finger.crc()
            else:
                self._crc = rope.crc_of(self._root) if self._root is not None else 0
        return self._crc

    def utf8_length(self) -> int:
        """Length of the whole text's UTF-8 in bytes."""
        root = self._tree()
        return root.nbytes if root is not None else 0

    def height(self) -> int:
        """Height of the underlying tree (0 for one chunk); for tests and benchmarks."""
        root = self._tree()
        return root.height if root is not None else 0

    def slice(self, start: int, end: int) -> str:
        """Code points ``start:end``, clamped to the text like ``str`` slicing (no negatives)."""
        if start < 0 or end < 0:
            raise ValueError("Text.slice takes non-negative positions")
        root = self._tree()
        end = min(end, len(self))
        if root is None or start >= end:
            return ""
        out: list[str] = []
        rope.collect(root, start, end, out)
        return "".join(out)

    def apply(self, op: Sequence[Component]) -> Text:
        """A new ``Text`` with ``op`` applied; ``OTError`` if the op overruns the text."""
        check_fits(op, len(self))
        edits = _edits(op)
        if not edits:
            return self
        if len(self):
            local = self._apply_in_one_leaf(edits)
            if local is not None:
                return local
        if len(edits) > _MIN_EDITS_FOR_REBUILD and len(
            edits
        ) * _CODE_POINTS_PER_EDIT_FOR_REBUILD > len(self):
            return Text.from_str(apply_to_str(str(self), op))
        root = self._tree()
        for start, end, insert in reversed(edits):
            root = (
                rope.replace(root, start, end, insert) if root is not None else rope.build(insert)
            )
        return Text(root)

    def _apply_in_one_leaf(self, edits: list[_Edit]) -> Text | None:
        """The fast path: every edit inside one leaf that stays within its size bounds."""
        first, last = edits[0][0], edits[-1][1]
        finger = self._finger
        if finger is None or not finger.contains(first, last):
            root = self._tree()
            assert root is not None
            finger = _locate(root, self.crc32(), first, last)
            if finger is None:
                return None
        text = _splice_leaf(finger, edits)
        if not 0 < len(text) <= rope.LEAF_MAX:
            return None
        return Text(self._root, _replace_leaf(finger, rope.Leaf(text)))
