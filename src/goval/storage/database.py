"""The state database: one SQLite file in the state directory, migrated by ``user_version``.

Owns the connection, its pragmas, transactions and schema migrations; the stores
(``chat_store``, ``meta_store``, ``ot_store``) own their tables' queries.

Concurrency: one connection guarded by one re-entrant lock. Every statement and transaction runs
with the lock held, so ``Database`` may be shared by the event loop and ``asyncio.to_thread``
workers. SQLite serialises writers anyway, and the statements here take micro- to milliseconds,
so a single connection costs nothing measurable and rules out "database is locked" between our
own threads.

Durability: WAL with ``synchronous=NORMAL`` survives a killed process (the WAL is in the OS page
cache once ``COMMIT`` returns); ``transaction(durable=True)`` switches to ``FULL`` for that commit
so it also survives power loss (high-consistency OT documents, protocol §5.6).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from goval.storage.schema import MIGRATIONS

__all__ = ["Database", "DatabaseTooNewError"]


class DatabaseTooNewError(RuntimeError):
    """The file was migrated by a newer goval; refusing to touch it."""


class Database:
    """A thread-safe handle on the state database.

    Args:
        path: the SQLite file (created if missing); ``":memory:"`` for tests of callers.
        migrations: ordered SQL scripts; script *i* moves ``user_version`` from *i* to *i + 1*.
    """

    def __init__(self, path: Path | str, migrations: Sequence[str] = MIGRATIONS) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._migrate(migrations)

    def _migrate(self, migrations: Sequence[str]) -> None:
        with self._lock:
            version = self.user_version()
            if version > len(migrations):
                raise DatabaseTooNewError(
                    f"state database {self.path} has schema {version}, this goval knows "
                    f"{len(migrations)}"
                )
            for number, script in enumerate(migrations[version:], start=version + 1):
                try:
                    # executescript commits any open transaction first, then runs ours whole.
                    self._conn.executescript(
                        f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                    )
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise

    def user_version(self) -> int:
        """The schema version recorded in the file."""
        row = self.query("PRAGMA user_version")[0]
        return int(row[0])

    @contextmanager
    def transaction(self, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """Run statements atomically; commit on success, roll back on any exception.

        ``durable`` fsyncs the WAL at commit (``synchronous=FULL`` for this transaction).
        Nested use from the same thread is not supported (SQLite has no nested BEGIN).
        """
        with self._lock:
            if durable:
                self._conn.execute("PRAGMA synchronous=FULL")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            finally:
                if durable:
                    self._conn.execute("PRAGMA synchronous=NORMAL")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement outside an explicit transaction and return all rows."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def pragma(self, name: str) -> Any:
        """The current value of a pragma (e.g. ``journal_mode``), for diagnostics and tests."""
        return self.query(f"PRAGMA {name}")[0][0]

    def close(self) -> None:
        """Checkpoint the WAL and close the connection; further use raises."""
        with self._lock:
            self._conn.close()
