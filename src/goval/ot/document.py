"""One OT document: text, version, committed history and cursors (protocol.md §5.4–§5.9).

``Document`` is the server's authority for one linked path: it accepts client ops based on any
version it has committed (§5.6 steps 2–7), answers history fetches (§5.7), commits whole-text
changes as diffs (first link, disk changes, §5.5/§5.9) and keeps cursors current (§5.8). It is
pure: the caller serialises calls, supplies the clock, persists packets and broadcasts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from goval.errors import LimitExceeded, OTError
from goval.ot.diff import diff
from goval.ot.operation import Component, check_fits, normalize, transform, transform_position
from goval.ot.text import Text

__all__ = ["MAX_CURSORS_PER_SESSION", "Cursor", "Document", "Packet"]

MAX_CURSORS_PER_SESSION = 64


@dataclass(frozen=True, slots=True)
class Packet:
    """A committed edit: packet ``version`` turns version - 1 into ``version``."""

    version: int
    ops: tuple[Component, ...]  # normalised
    crc32: int  # zlib.crc32 of the UTF-8 of the whole text after this packet
    committed_ns: int  # commit time, nanoseconds since the Unix epoch
    nonce: int = 0  # the producing client packet's nonce, 0 for server-made packets

    @property
    def seconds(self) -> int:
        return self.committed_ns // 1_000_000_000

    @property
    def nanos(self) -> int:
        return self.committed_ns % 1_000_000_000


@dataclass(frozen=True, slots=True)
class Cursor:
    """A stored cursor; positions are code points in the document's current version."""

    id: str
    position: int
    selection_start: int
    selection_end: int
    session: int
    user_id: int = 0
    user_name: str = ""


class Document:
    """Text, version, history and cursors of one document; every method is one serialised step."""

    def __init__(self, *, max_cursors_per_session: int = MAX_CURSORS_PER_SESSION) -> None:
        self.text = Text()
        self.history: list[Packet] = []
        self.cursors: dict[str, Cursor] = {}
        self.max_cursors_per_session = max_cursors_per_session

    @classmethod
    def new(cls, **options: int) -> Document:
        """An empty document at version 0 (before its first link)."""
        return cls(**options)

    @classmethod
    def restore(cls, packets: Iterable[Packet], **options: int) -> Document:
        """Rebuild a document from its persisted history, checking versions and CRCs.

        Raises:
            OTError: the history has a gap, an op that does not fit, or a CRC mismatch.
        """
        document = cls(**options)
        for packet in packets:
            expected = document.version + 1
            if packet.version != expected:
                raise OTError(f"corrupt history: packet {packet.version} where {expected} was due")
            text = document.text.apply(packet.ops)
            if text.crc32() != packet.crc32:
                raise OTError(f"corrupt history: crc32 mismatch at version {packet.version}")
            document.text = text
            document.history.append(packet)
        return document

    @property
    def version(self) -> int:
        return len(self.history)

    def receive(self, base: int, op: Sequence[Component], nonce: int, now_ns: int) -> Packet:
        """Accept a client op based on version ``base`` (§5.6 steps 2–7) and commit it.

        Raises:
            OTError: ``base`` is ahead of the document, or the op is too long for the text;
                nothing is committed.
        """
        current = self.version
        if base > current or base < 0:
            raise OTError(f"invalid version {base} (current version is {current})")
        rebased = normalize(op)
        for packet in self.history[base:]:
            rebased = transform(rebased, packet.ops, "right")
        check_fits(rebased, len(self.text))
        return self._commit(rebased, nonce, now_ns)

    def commit_text(
        self,
        new_text: str,
        now_ns: int,
        *,
        base_version: int | None = None,
        base_text: str | None = None,
    ) -> Packet:
        """Commit the change from a known text to ``new_text`` as a diff (nonce 0).

        Without a base this diffs the current text — the first link (version 0 → 1, one insert
        of the whole file, no components for an empty one). With ``base_version`` and
        ``base_text`` (the last synced text, §5.9) the diff is rebased like a client op, so
        edits committed since then are merged, not lost. Always commits, even an empty op.
        """
        if base_version is None or base_text is None:
            return self._commit(diff(str(self.text), new_text), 0, now_ns)
        return self.receive(base_version, diff(base_text, new_text), 0, now_ns)

    def _commit(self, op: list[Component], nonce: int, now_ns: int) -> Packet:
        self.text = self.text.apply(op)
        packet = Packet(self.version + 1, tuple(op), self.text.crc32(), now_ns, nonce)
        self.history.append(packet)
        if op and self.cursors:
            self.cursors = {key: _moved(cursor, op) for key, cursor in self.cursors.items()}
        return packet

    def fetch(self, version_from: int, version_to: int) -> list[Packet]:
        """Packets ``version_from`` … ``version_to`` inclusive (0 means 1 / current), §5.7.

        Raises:
            OTError: the range is reversed or beyond the current version (the text shows the
                range after substituting the zeros).
        """
        current = self.version
        first = version_from or 1
        last = version_to or current
        if first > last or last > current:
            raise OTError(f"invalid version range {first}..{last} (current version is {current})")
        return self.history[first - 1 : last]

    def set_cursor(self, cursor: Cursor) -> Cursor:
        """Store ``cursor`` (replacing any cursor with its id), positions clamped to the text.

        Raises:
            LimitExceeded: ``too many cursors`` — the session already has the maximum.
        """
        existing = self.cursors.get(cursor.id)
        if existing is None or existing.session != cursor.session:
            owned = sum(1 for c in self.cursors.values() if c.session == cursor.session)
            if owned >= self.max_cursors_per_session:
                raise LimitExceeded("too many cursors")
        length = len(self.text)
        stored = replace(
            cursor,
            position=min(cursor.position, length),
            selection_start=min(cursor.selection_start, length),
            selection_end=min(cursor.selection_end, length),
        )
        self.cursors[cursor.id] = stored
        return stored

    def delete_cursor(self, cursor_id: str, session: int) -> bool:
        """Remove ``session``'s own cursor ``cursor_id``; unknown or foreign ids are ignored."""
        cursor = self.cursors.get(cursor_id)
        if cursor is None or cursor.session != session:
            return False
        del self.cursors[cursor_id]
        return True

    def remove_session_cursors(self, session: int) -> list[str]:
        """Remove every cursor of ``session`` (on detach); returns their ids."""
        ids = [key for key, cursor in self.cursors.items() if cursor.session == session]
        for key in ids:
            del self.cursors[key]
        return ids


def _moved(cursor: Cursor, op: list[Component]) -> Cursor:
    return replace(
        cursor,
        position=transform_position(cursor.position, op),
        selection_start=transform_position(cursor.selection_start, op),
        selection_end=transform_position(cursor.selection_end, op),
    )
