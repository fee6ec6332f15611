"""Persistent chat scrollback of named chat channels (protocol §4.10).

Owns the ``chat`` table: append, read the last N oldest-first, trim. Anonymous chats are the
service's business (memory only) and never reach this store.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from goval.storage.database import Database

__all__ = ["DEFAULT_KEEP", "ChatStore", "StoredChatMessage"]

DEFAULT_KEEP = 100


@dataclass(frozen=True, slots=True)
class StoredChatMessage:
    """One chat line as persisted."""

    username: str
    text: str


class ChatStore:
    """The last ``keep`` messages of every named chat channel."""

    def __init__(self, db: Database, keep: int = DEFAULT_KEEP) -> None:
        self._db = db
        self.keep = keep

    def append(self, channel_name: str, username: str, text: str) -> None:
        """Store one message and drop all but the newest ``keep`` of that channel."""
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO chat (channel, username, text, created) VALUES (?, ?, ?, ?)",
                (channel_name, username, text, time.time()),
            )
            self._trim(conn, channel_name, self.keep)

    def last(self, channel_name: str, n: int | None = None) -> list[StoredChatMessage]:
        """The newest ``n`` (default ``keep``) messages of a channel, oldest first."""
        rows = self._db.query(
            "SELECT username, text FROM ("
            " SELECT id, username, text FROM chat WHERE channel = ? ORDER BY id DESC LIMIT ?"
            ") ORDER BY id",
            (channel_name, self.keep if n is None else n),
        )
        return [StoredChatMessage(username, text) for username, text in rows]

    def trim(self, channel_name: str, keep: int | None = None) -> None:
        """Drop all but the newest ``keep`` (default ``self.keep``) messages of a channel."""
        with self._db.transaction() as conn:
            self._trim(conn, channel_name, self.keep if keep is None else keep)

    @staticmethod
    def _trim(conn: sqlite3.Connection, channel_name: str, keep: int) -> None:
        conn.execute(
            "DELETE FROM chat WHERE channel = ? AND id NOT IN ("
            " SELECT id FROM chat WHERE channel = ? ORDER BY id DESC LIMIT ?)",
            (channel_name, channel_name, keep),
        )
