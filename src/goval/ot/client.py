"""The client side of OT sync: one op in flight, later local edits buffered (protocol.md §5.6).

``ClientDocument`` is the state machine a client (our client library, tests, the CLI editor)
runs against the server's ``Document``. Local edits apply at once; at most one op is in flight,
and edits made meanwhile are composed into a buffer sent when the in-flight op is acknowledged.
The acknowledgement is the server's broadcast of our own op: a packet whose ops equal the locally
rebased in-flight op (the 2020 workspace client's rule). For any other packet the client rebases
its pending ops with ``right`` and the server's op with ``left`` — the mirror of the server, which
lets committed ops win insert ties. Pure: the caller does the sending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from goval.errors import OTError
from goval.ot.operation import Component, Op, compose, normalize, transform
from goval.ot.text import Text

__all__ = ["ClientDocument", "Outgoing", "Received"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An op to send, based on version ``base`` (wire: spookyVersion = base, version = base+1)."""

    base: int
    ops: Op


@dataclass(frozen=True, slots=True)
class Received:
    """What a server packet means locally: an op to apply to the editor, and maybe a send."""

    apply: Op  # already applied to ClientDocument.text; the caller mirrors it in its view
    send: Outgoing | None


class ClientDocument:
    """A client's copy of one document, synchronised with the server one packet at a time."""

    def __init__(self, text: str = "", version: int = 0) -> None:
        self._text = Text.from_str(text)
        self.version = version
        self.inflight: Op | None = None
        self.buffer: Op | None = None

    @property
    def text(self) -> str:
        return str(self._text)

    def crc32(self) -> int:
        """``zlib.crc32`` of the local text's UTF-8."""
        return self._text.crc32()

    def __len__(self) -> int:
        return len(self._text)

    def local_edit(self, op: Sequence[Component]) -> Outgoing | None:
        """Apply a local edit; returns the packet to send, or None while one is in flight.

        Raises:
            OTError: the op is too long for the local text (nothing changes).
        """
        normalised = normalize(op)
        self._text = self._text.apply(normalised)
        if self.inflight is None:
            self.inflight = normalised
            return Outgoing(self.version, normalised)
        self.buffer = normalised if self.buffer is None else compose(self.buffer, normalised)
        return None

    def server_packet(
        self, version: int, ops: Sequence[Component], crc32: int | None = None
    ) -> Received:
        """Take the server's packet ``version``; packets must arrive in order, each once.

        Raises:
            OTError: a gap in the versions, or (when ``crc32`` is given) a checksum mismatch.
        """
        if version != self.version + 1:
            raise OTError(f"unexpected version {version} (local version is {self.version})")
        ops = list(ops)
        if self.inflight is not None and ops == self.inflight:
            self.version = version
            self.inflight, self.buffer = self.buffer, None
            send = Outgoing(version, self.inflight) if self.inflight is not None else None
            self._check(crc32)
            return Received([], send)
        incoming = ops
        if self.inflight is not None:
            incoming, self.inflight = (
                transform(incoming, self.inflight, "left"),
                transform(self.inflight, incoming, "right"),
            )
        if self.buffer is not None:
            incoming, self.buffer = (
                transform(incoming, self.buffer, "left"),
                transform(self.buffer, incoming, "right"),
            )
        self._text = self._text.apply(incoming)
        self.version = version
        self._check(crc32)
        return Received(incoming, None)

    def _check(self, crc32: int | None) -> None:
        # The server's CRC covers its text, which has no pending local ops: compare only then.
        if crc32 is not None and self.inflight is None and self._text.crc32() != crc32:
            raise OTError(f"crc32 mismatch at version {self.version}")
