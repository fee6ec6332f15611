"""The SQLite state database and its stores, on a real file in tmp_path."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from goval.errors import LimitExceeded
from goval.storage import (
    ChatStore,
    Database,
    DatabaseTooNewError,
    MetaStore,
    OTStore,
    StoredChatMessage,
    StoredPacket,
    VCRRecord,
    VCRStore,
)
from goval.storage.schema import MIGRATIONS


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "state.db")


# -- database ---------------------------------------------------------------------------------


def test_database_uses_wal_and_records_its_schema_version(db: Database) -> None:
    assert db.pragma("journal_mode") == "wal"
    assert db.pragma("synchronous") == 1  # NORMAL
    assert db.user_version() == len(MIGRATIONS) >= 2


def test_migrations_run_once_and_only_the_new_ones(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    first = ("CREATE TABLE a (x);",)
    Database(path, first).close()
    db = Database(path, (*first, "CREATE TABLE b (y); INSERT INTO b VALUES (7);"))
    assert db.user_version() == 2
    assert db.query("SELECT y FROM b") == [(7,)]
    db.close()
    assert Database(path, (*first, "CREATE TABLE b (y);")).user_version() == 2


def test_a_failing_migration_leaves_the_old_version(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with pytest.raises(sqlite3.OperationalError):
        Database(path, ("CREATE TABLE a (x);", "CREATE TABLE c (z); SELECT * FROM nope;"))
    db = Database(path, ("CREATE TABLE a (x);",))
    assert db.user_version() == 1
    assert db.query("SELECT name FROM sqlite_master WHERE name = 'c'") == []


def test_a_database_from_a_newer_goval_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    Database(path, ("SELECT 1;", "SELECT 2;")).close()
    with pytest.raises(DatabaseTooNewError):
        Database(path, ("SELECT 1;",))


def test_a_failed_transaction_is_rolled_back(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as conn:
        conn.execute("INSERT INTO meta VALUES ('k', x'00')")
        raise RuntimeError
    assert db.query("SELECT count(*) FROM meta") == [(0,)]


def test_durable_transactions_restore_normal_sync(db: Database) -> None:
    with db.transaction(durable=True) as conn:
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert db.pragma("synchronous") == 1


def test_many_threads_share_one_database(db: Database) -> None:
    chat = ChatStore(db, keep=10_000)

    def talk(n: int) -> None:
        for i in range(50):
            chat.append("room", f"u{n}", str(i))

    threads = [threading.Thread(target=talk, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(chat.last("room", 1000)) == 400


# -- chat -------------------------------------------------------------------------------------


def test_chat_returns_the_last_messages_oldest_first_and_survives_reopening(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "s.db")
    chat = ChatStore(db, keep=3)
    for i in range(5):
        chat.append("chat", "alice", f"m{i}")
    chat.append("other", "bob", "elsewhere")
    db.close()
    chat = ChatStore(Database(tmp_path / "s.db"), keep=3)
    assert chat.last("chat") == [StoredChatMessage("alice", f"m{i}") for i in (2, 3, 4)]
    assert chat.last("chat", 2) == [
        StoredChatMessage("alice", "m3"),
        StoredChatMessage("alice", "m4"),
    ]
    assert chat.last("other") == [StoredChatMessage("bob", "elsewhere")]
    assert chat.last("nobody") == []


def test_chat_keeps_100_messages_by_default_and_can_trim(db: Database) -> None:
    chat = ChatStore(db)
    for i in range(105):
        chat.append("c", "u", str(i))
    assert [m.text for m in chat.last("c", 1000)] == [str(i) for i in range(5, 105)]
    chat.trim("c", 2)
    assert [m.text for m in chat.last("c")] == ["103", "104"]


# -- meta -------------------------------------------------------------------------------------


def test_meta_reads_writes_and_appends_bytes(db: Database) -> None:
    meta = MetaStore(db)
    assert meta.read("k") is None
    meta.append("k", b"\x00\xff")
    meta.append("k", b"\x80")
    assert meta.read("k") == b"\x00\xff\x80"
    meta.write("k", b"new")
    assert meta.read("k") == b"new"
    meta.write("é" * 128, b"")  # 256 bytes of UTF-8
    assert meta.read("é" * 128) == b""


@pytest.mark.parametrize("key", ["", "k" * 257, "é" * 129])
def test_meta_refuses_bad_keys(db: Database, key: str) -> None:
    meta = MetaStore(db)
    calls: list[Callable[[], object]] = [
        lambda: meta.read(key),
        lambda: meta.write(key, b""),
        lambda: meta.append(key, b""),
    ]
    for call in calls:
        with pytest.raises(LimitExceeded, match=r"^invalid key$"):
            call()


def test_meta_refuses_values_over_one_mib_also_after_append(db: Database) -> None:
    meta = MetaStore(db)
    meta.write("big", b"x" * (1 << 20))
    with pytest.raises(LimitExceeded, match=r"^value too large$"):
        meta.write("other", b"x" * ((1 << 20) + 1))
    with pytest.raises(LimitExceeded, match=r"^value too large$"):
        meta.append("big", b"y")
    assert meta.read("big") == b"x" * (1 << 20)
    assert meta.read("other") is None


# -- OT history -------------------------------------------------------------------------------


def _packet(version: int, ops: list[int | str | dict[str, int]]) -> StoredPacket:
    return StoredPacket(version, ops, 123 + version, 1_700_000_000 + version, 5, version * 7)


def test_ot_history_round_trips_every_field_in_order(tmp_path: Path) -> None:
    db = Database(tmp_path / "s.db")
    store = OTStore(db)
    packets = [_packet(1, ["héllo\n"]), _packet(2, [3, {"d": 2}, "😀"]), _packet(3, [])]
    store.append("src/a.py", packets[0], durable=True)
    store.append("src/a.py", packets[1:])
    store.append("b.txt", _packet(1, ["b"]))
    db.close()
    store = OTStore(Database(tmp_path / "s.db"))
    assert store.load("src/a.py") == packets
    assert store.load("src/a.py", 2, 2) == [packets[1]]
    assert store.last_version("src/a.py") == 3
    assert store.last_version("missing") == 0
    assert store.paths() == ["b.txt", "src/a.py"]


@pytest.mark.parametrize("versions", [[2], [1, 1], [1, 3]])
def test_ot_history_refuses_gaps_and_duplicates(db: Database, versions: list[int]) -> None:
    store = OTStore(db)
    with pytest.raises(ValueError, match="expected"):
        store.append("p", [_packet(v, []) for v in versions])
    assert store.last_version("p") == 0


# -- VCR --------------------------------------------------------------------------------------


def test_vcr_keeps_the_newest_entries_per_session_in_order(tmp_path: Path) -> None:
    db = Database(tmp_path / "s.db")
    vcr = VCRStore(db, keep=300)
    vcr.append(VCRRecord("3", 1, 0, b"\x00first"))
    vcr.append(VCRRecord("2", t, t % 2, bytes([t % 256])) for t in range(1000))
    db.close()
    db = Database(tmp_path / "s.db")
    vcr = VCRStore(db, keep=300)
    two = vcr.entries("2")
    assert [r.timestamp_ms for r in two] == list(range(700, 1000))
    assert two[0] == VCRRecord("2", 700, 0, bytes([700 % 256]))
    assert vcr.entries("3") == [VCRRecord("3", 1, 0, b"\x00first")]
    assert vcr.uids() == ["2", "3"]
    assert [r.uid for r in vcr.entries()][:1] == ["3"]  # all sessions, by time
    assert db.query("SELECT count(*) FROM vcr WHERE uid = '2'")[0][0] <= 300 + 256
    vcr.clear("2")
    assert vcr.entries("2") == []
