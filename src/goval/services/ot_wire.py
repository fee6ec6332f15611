"""Conversions between the wire's OT messages and the engine's types (protocol.md §5.4, §5.8).

Owns the mapping ``OTRuneTransformOp`` ↔ ``goval.ot`` components (``skip`` ↔ int, ``insert`` ↔
str, ``delete`` ↔ ``Delete``), committed ``Packet`` ↔ wire ``OTPacket`` and ↔ the history
store's ``StoredPacket`` (ot-text-unicode JSON ops), and ``Cursor`` ↔ ``OTCursor``. Pure
functions: no document state, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer

from goval._proto.api_pb2 import Command, OTCursor, OTPacket, OTRuneTransformOp, User
from goval.ot import Component, Cursor, Delete, Packet
from goval.storage import OpComponent, StoredPacket

__all__ = [
    "cursor_command",
    "cursor_from_wire",
    "cursor_to_wire",
    "ops_from_wire",
    "ops_to_wire",
    "packet_command",
    "packet_from_stored",
    "packet_to_wire",
    "stored_from_packet",
]


def ops_from_wire(wire: Iterable[OTRuneTransformOp]) -> list[Component]:
    """Wire components as engine components; a component with no field set counts as ``skip 0``
    (normalisation drops it)."""
    ops: list[Component] = []
    for component in wire:
        kind = component.WhichOneof("op")
        if kind == "insert":
            ops.append(component.insert)
        elif kind == "delete":
            ops.append(Delete(component.delete))
        else:
            ops.append(component.skip)
    return ops


def ops_to_wire(
    ops: Sequence[Component], out: RepeatedCompositeFieldContainer[OTRuneTransformOp]
) -> None:
    """Append ``ops`` to a repeated ``OTRuneTransformOp`` field."""
    for c in ops:
        if type(c) is int:
            out.add(skip=c)
        elif type(c) is str:
            out.add(insert=c)
        else:
            assert isinstance(c, Delete)
            out.add(delete=c.n)


def packet_to_wire(packet: Packet, out: OTPacket) -> None:
    """Fill ``out`` with a committed packet exactly as the server broadcasts it (§5.4)."""
    out.spookyVersion = packet.version
    out.version = packet.version
    ops_to_wire(packet.ops, out.ops)
    out.crc32 = packet.crc32
    out.committed.seconds = packet.seconds
    out.committed.nanos = packet.nanos
    out.nonce = packet.nonce


def packet_command(packet: Packet) -> Command:
    """The ``ot`` command carrying ``packet``."""
    command = Command()
    packet_to_wire(packet, command.ot)
    return command


def stored_from_packet(packet: Packet) -> StoredPacket:
    """The history-store row of a committed packet."""
    ops: list[OpComponent] = [{"d": c.n} if isinstance(c, Delete) else c for c in packet.ops]
    return StoredPacket(
        packet.version, ops, packet.crc32, packet.seconds, packet.nanos, packet.nonce
    )


def packet_from_stored(stored: StoredPacket) -> Packet:
    """A committed packet read back from the history store."""
    ops: list[Component] = []
    for c in stored.ops:
        ops.append(Delete(int(c["d"])) if isinstance(c, dict) else c)
    committed_ns = stored.committed_seconds * 1_000_000_000 + stored.committed_nanos
    return Packet(stored.version, tuple(ops), stored.crc32, committed_ns, stored.nonce)


def cursor_from_wire(wire: OTCursor, session: int, user_id: int, user_name: str) -> Cursor:
    """A cursor sent by ``session`` (its ``user`` is replaced by the sender's)."""
    return Cursor(
        id=wire.id,
        position=wire.position,
        selection_start=wire.selectionStart,
        selection_end=wire.selectionEnd,
        session=session,
        user_id=user_id,
        user_name=user_name,
    )


def cursor_to_wire(cursor: Cursor, out: OTCursor, user: User | None = None) -> None:
    """Fill ``out`` with a stored cursor and its owner (``user``: the owner's full ``User``)."""
    out.id = cursor.id
    out.position = cursor.position
    out.selectionStart = cursor.selection_start
    out.selectionEnd = cursor.selection_end
    if user is not None:
        out.user.CopyFrom(user)
    else:
        out.user.id = cursor.user_id
        out.user.name = cursor.user_name
        out.user.session = cursor.session


def cursor_command(cursor: Cursor, user: User | None = None) -> Command:
    """The ``otNewCursor`` command announcing a stored cursor."""
    command = Command()
    cursor_to_wire(cursor, command.otNewCursor, user)
    return command
