"""The ``meta`` service's persistent key-value store (protocol §4.15).

Owns the ``meta`` table and its limits: keys 1–256 bytes of UTF-8, values at most 1 MiB
(checked again after an append, which is atomic).
"""

from __future__ import annotations

from goval.errors import LimitExceeded
from goval.storage.database import Database

__all__ = ["MAX_KEY_BYTES", "MAX_VALUE_BYTES", "MetaStore"]

MAX_KEY_BYTES = 256
MAX_VALUE_BYTES = 1 << 20


class MetaStore:
    """Bytes values under string keys."""

    def __init__(self, db: Database, max_value: int = MAX_VALUE_BYTES) -> None:
        self._db = db
        self.max_value = max_value

    def read(self, key: str) -> bytes | None:
        """The value, or None when the key was never written.

        Raises:
            LimitExceeded: ``invalid key``.
        """
        _check_key(key)
        rows = self._db.query("SELECT value FROM meta WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    def write(self, key: str, data: bytes) -> None:
        """Set the value.

        Raises:
            LimitExceeded: ``invalid key`` / ``value too large``; nothing is stored.
        """
        _check_key(key)
        if len(data) > self.max_value:
            raise LimitExceeded("value too large")
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, data),
            )

    def append(self, key: str, data: bytes) -> None:
        """Append to the value (a missing key starts empty).

        Raises:
            LimitExceeded: ``invalid key`` / ``value too large`` (for the result); nothing changes.
        """
        _check_key(key)
        with self._db.transaction() as conn:
            # Concatenated in Python: SQLite's || turns BLOBs into TEXT.
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            value = (bytes(row[0]) if row else b"") + data
            if len(value) > self.max_value:
                raise LimitExceeded("value too large")
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _check_key(key: str) -> None:
    if not 1 <= len(key.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES:
        raise LimitExceeded("invalid key")
