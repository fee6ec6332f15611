"""Persistent OT history: every committed packet of every document (protocol §5.4, §5.10).

Owns the ``ot_packets`` table. Ops are stored as ot-text-unicode JSON — an int is a skip, a
string an insert, ``{"d": n}`` a delete — so the history is readable with ``sqlite3`` alone and
independent of the protobuf schema. Packets of one path must be appended with consecutive
versions starting at 1; the store refuses gaps and duplicates so a bug cannot silently fork a
document's history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from goval.storage.database import Database

__all__ = ["OTStore", "OpComponent", "StoredPacket"]

OpComponent: TypeAlias = int | str | dict[str, int]


@dataclass(frozen=True, slots=True)
class StoredPacket:
    """One committed packet as it was broadcast."""

    version: int
    ops: list[OpComponent]
    crc32: int
    committed_seconds: int
    committed_nanos: int
    nonce: int = 0


class OTStore:
    """Append-only packet history keyed by the document's cleaned path."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def append(
        self, path: str, packets: StoredPacket | Sequence[StoredPacket], durable: bool = False
    ) -> None:
        """Append packets atomically; ``durable`` fsyncs before returning (high-consistency).

        Raises:
            ValueError: the versions do not continue the stored history by exactly one each.
        """
        batch = [packets] if isinstance(packets, StoredPacket) else list(packets)
        with self._db.transaction(durable=durable) as conn:
            (last,) = conn.execute(
                "SELECT coalesce(max(version), 0) FROM ot_packets WHERE path = ?", (path,)
            ).fetchone()
            for expected, packet in enumerate(batch, start=last + 1):
                if packet.version != expected:
                    raise ValueError(
                        f"packet version {packet.version} for {path!r}, expected {expected}"
                    )
            conn.executemany(
                "INSERT INTO ot_packets (path, version, ops, crc32, committed_seconds,"
                " committed_nanos, nonce) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_row(path, p) for p in batch],
            )

    def load(self, path: str, first: int = 1, last: int | None = None) -> list[StoredPacket]:
        """Packets ``first`` … ``last`` (inclusive; default: all), in version order."""
        rows = self._db.query(
            "SELECT version, ops, crc32, committed_seconds, committed_nanos, nonce"
            " FROM ot_packets WHERE path = ? AND version >= ? AND version <= ? ORDER BY version",
            (path, first, (1 << 62) if last is None else last),
        )
        return [_packet(row) for row in rows]

    def last_version(self, path: str) -> int:
        """The newest stored version of a document (0 when it has no history)."""
        rows = self._db.query(
            "SELECT coalesce(max(version), 0) FROM ot_packets WHERE path = ?", (path,)
        )
        return int(rows[0][0])

    def paths(self) -> list[str]:
        """Every document path with history, sorted."""
        return [row[0] for row in self._db.query("SELECT DISTINCT path FROM ot_packets ORDER BY 1")]


def _row(path: str, p: StoredPacket) -> tuple[Any, ...]:
    ops = json.dumps(p.ops, ensure_ascii=False, separators=(",", ":"))
    return (path, p.version, ops, p.crc32, p.committed_seconds, p.committed_nanos, p.nonce)


def _packet(row: tuple[Any, ...]) -> StoredPacket:
    version, ops, crc32, seconds, nanos, nonce = row
    return StoredPacket(version, json.loads(ops), crc32, seconds, nanos, nonce)
