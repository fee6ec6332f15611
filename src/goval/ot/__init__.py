"""goval.ot: the pure operational-transformation engine (protocol.md §5).

``operation`` (op type, normalise, apply, transform, compose, positions), ``text`` (the rope
``Text`` with an O(1)-per-local-edit CRC-32), ``diff`` (text → op), ``document`` (the server's
``Document``: versions, history, cursors) and ``client`` (``ClientDocument``, the client's sync
state machine). No I/O, no asyncio, no protobuf; imports nothing of goval but ``goval.errors``.
"""

from goval.ot.client import ClientDocument, Outgoing, Received
from goval.ot.crc import crc32_combine
from goval.ot.diff import diff
from goval.ot.document import MAX_CURSORS_PER_SESSION, Cursor, Document, Packet
from goval.ot.operation import (
    Component,
    Delete,
    Op,
    Side,
    apply,
    base_length,
    check_fits,
    compose,
    delete_at,
    insert_at,
    is_normalized,
    normalize,
    transform,
    transform_position,
)
from goval.ot.text import Text

__all__ = [
    "MAX_CURSORS_PER_SESSION",
    "ClientDocument",
    "Component",
    "Cursor",
    "Delete",
    "Document",
    "Op",
    "Outgoing",
    "Packet",
    "Received",
    "Side",
    "Text",
    "apply",
    "base_length",
    "check_fits",
    "compose",
    "crc32_combine",
    "delete_at",
    "diff",
    "insert_at",
    "is_normalized",
    "normalize",
    "transform",
    "transform_position",
]
