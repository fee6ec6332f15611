"""The state database's schema, as an append-only list of migrations.

Owns table definitions only. Never edit a released entry: add a new one (``Database`` applies
the scripts above the file's ``user_version`` in order, each in one transaction).
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

MIGRATIONS: tuple[str, ...] = (
    # 1: chat scrollback, meta key-value store, OT history.
    """
    CREATE TABLE chat (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        username TEXT NOT NULL,
        text TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE INDEX chat_by_channel ON chat (channel, id);
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
    CREATE TABLE ot_packets (
        path TEXT NOT NULL,
        version INTEGER NOT NULL,
        ops TEXT NOT NULL,
        crc32 INTEGER NOT NULL,
        committed_seconds INTEGER NOT NULL,
        committed_nanos INTEGER NOT NULL,
        nonce INTEGER NOT NULL,
        PRIMARY KEY (path, version)
    ) WITHOUT ROWID;
    """,
    # 2: VCR recordings (protocol §2.7): raw encoded Commands per session, both directions.
    """
    CREATE TABLE vcr (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        direction INTEGER NOT NULL,
        command BLOB NOT NULL
    );
    CREATE INDEX vcr_by_uid ON vcr (uid, id);
    """,
)
