"""VCR recordings: each recording session's traffic, both ways (protocol §2.7).

Owns the ``vcr`` table. Commands are stored as their encoded protobuf bytes (storage never
decodes the wire format); the service turns them back into ``VCREntry`` messages. Each session
keeps its newest ``keep`` (10 000) entries; trimming is amortised over appends and reads never
return more than ``keep`` per session, so the bound holds exactly from the caller's view.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from goval.storage.database import Database

__all__ = ["IN", "OUT", "VCRRecord", "VCRStore"]

IN = 0  # client → server (VCREntry.Direction.IN)
OUT = 1  # server → client
DEFAULT_KEEP = 10_000
TRIM_EVERY = 256


@dataclass(frozen=True, slots=True)
class VCRRecord:
    """One recorded message."""

    uid: str
    timestamp_ms: int
    direction: int
    command: bytes


class VCRStore:
    """Recorded traffic of sessions, keyed by the session's uid (its session id as text)."""

    def __init__(self, db: Database, keep: int = DEFAULT_KEEP) -> None:
        self._db = db
        self.keep = keep
        self._since_trim: dict[str, int] = {}

    def append(self, records: VCRRecord | Iterable[VCRRecord]) -> None:
        """Store records (one transaction: batch them, one commit per message is slow)."""
        batch = [records] if isinstance(records, VCRRecord) else list(records)
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT INTO vcr (uid, timestamp_ms, direction, command) VALUES (?, ?, ?, ?)",
                [(r.uid, r.timestamp_ms, r.direction, r.command) for r in batch],
            )
            for uid in {r.uid for r in batch}:
                count = self._since_trim.get(uid, 0) + sum(r.uid == uid for r in batch)
                if count >= TRIM_EVERY:
                    self._trim(conn, uid)
                    count = 0
                self._since_trim[uid] = count

    def entries(self, uid: str | None = None) -> list[VCRRecord]:
        """One session's newest ``keep`` records (or every session's), oldest first."""
        uids = [uid] if uid is not None else self.uids()
        out: list[VCRRecord] = []
        for one in uids:
            rows = self._db.query(
                "SELECT uid, timestamp_ms, direction, command FROM ("
                " SELECT * FROM vcr WHERE uid = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
                (one, self.keep),
            )
            out.extend(VCRRecord(u, ts, d, bytes(c)) for u, ts, d, c in rows)
        if uid is None:
            out.sort(key=lambda r: r.timestamp_ms)
        return out

    def uids(self) -> list[str]:
        """Sessions with a recording, sorted."""
        return [row[0] for row in self._db.query("SELECT DISTINCT uid FROM vcr ORDER BY 1")]

    def clear(self, uid: str) -> None:
        """Forget one session's recording."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM vcr WHERE uid = ?", (uid,))

    def _trim(self, conn: sqlite3.Connection, uid: str) -> None:
        conn.execute(
            "DELETE FROM vcr WHERE uid = ? AND id <= coalesce(("
            " SELECT id FROM vcr WHERE uid = ? ORDER BY id DESC LIMIT 1 OFFSET ?), -1)",
            (uid, uid, self.keep),
        )
