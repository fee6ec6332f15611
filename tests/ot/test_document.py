"""Document: accepting edits (§5.6), fetch (§5.7), whole-text commits (§5.5, §5.9), cursors."""

from __future__ import annotations

import zlib

import pytest

from goval.errors import LimitExceeded, OTError
from goval.ot import Cursor, Delete, Document, Packet

NOW = 1_700_000_000_123_456_789


def _linked(text: str) -> Document:
    document = Document.new()
    document.commit_text(text, NOW)
    return document


def test_first_link_commits_version_1_inserting_the_whole_text() -> None:
    document = Document.new()
    assert document.version == 0
    packet = document.commit_text("abc", NOW)
    assert packet == Packet(1, ("abc",), 891568578, NOW, 0)
    assert (packet.seconds, packet.nanos) == (1_700_000_000, 123_456_789)


def test_first_link_of_an_empty_file_commits_an_empty_op() -> None:
    packet = Document.new().commit_text("", NOW)
    assert (packet.version, packet.ops, packet.crc32) == (1, (), 0)


def test_example_6_concurrent_inserts_commit_in_arrival_order() -> None:
    document = _linked("abc")
    alice = document.receive(1, ["X"], 7, NOW + 1)
    bob = document.receive(1, ["Y"], 8, NOW + 2)
    assert (alice.version, alice.ops, alice.crc32, alice.nonce) == (2, ("X",), 3851968641, 7)
    assert (bob.version, bob.ops, bob.crc32, bob.nonce) == (3, (1, "Y"), 2988551151, 8)
    assert str(document.text) == "XYabc"


def test_a_base_ahead_of_the_document_is_refused_and_nothing_commits() -> None:
    document = _linked("abc")
    with pytest.raises(OTError) as caught:
        document.receive(2, ["X"], 0, NOW)
    assert str(caught.value) == "invalid version 2 (current version is 1)"
    assert document.version == 1


def test_an_op_too_long_after_rebasing_is_refused_and_nothing_commits() -> None:
    document = _linked("abcdef")
    document.receive(1, [Delete(4)], 0, NOW)
    with pytest.raises(OTError) as caught:
        document.receive(2, [3, Delete(1)], 0, NOW)
    assert str(caught.value) == "invalid op: too long for the document (4 > 2)"
    assert (document.version, str(document.text)) == (2, "ef")


def test_incoming_ops_are_normalised_and_an_empty_op_still_commits() -> None:
    document = _linked("abc")
    assert document.receive(1, [0, "x", "y", 1, 2], 0, NOW).ops == ("xy",)
    empty = document.receive(2, [3, 0, ""], 0, NOW)
    assert (empty.version, empty.ops, empty.crc32) == (3, (), zlib.crc32(b"xyabc"))


def test_an_old_base_is_rebased_over_every_later_packet_with_right() -> None:
    document = _linked("abc")
    document.receive(1, [3, "1"], 0, NOW)
    document.receive(2, [Delete(1)], 0, NOW)
    packet = document.receive(1, [3, "2"], 0, NOW)  # ties with "1": the committed insert wins
    assert packet.ops == (3, "2")
    assert str(document.text) == "bc12"


def test_fetch_returns_an_inclusive_range_with_zero_meaning_first_and_current() -> None:
    document = _linked("a")
    for i in range(3):
        document.receive(document.version, [i + 1, str(i)], 0, NOW)
    assert [p.version for p in document.fetch(2, 3)] == [2, 3]
    assert [p.version for p in document.fetch(0, 0)] == [1, 2, 3, 4]
    assert [p.version for p in document.fetch(3, 0)] == [3, 4]
    assert document.fetch(2, 3)[0] is document.history[1]


@pytest.mark.parametrize(
    ("first", "last", "text"),
    [
        (3, 2, "invalid version range 3..2 (current version is 2)"),
        (1, 5, "invalid version range 1..5 (current version is 2)"),
        (4, 0, "invalid version range 4..2 (current version is 2)"),
    ],
)
def test_fetch_refuses_bad_ranges_with_the_exact_text(first: int, last: int, text: str) -> None:
    document = _linked("a")
    document.receive(1, ["b"], 0, NOW)
    with pytest.raises(OTError) as caught:
        document.fetch(first, last)
    assert str(caught.value) == text


def test_a_disk_change_is_diffed_from_the_synced_text_and_merged_with_unwritten_edits() -> None:
    document = _linked("line one\nline two\n")
    document.receive(1, [0, ">> "], 0, NOW)  # unwritten edit at version 2
    packet = document.commit_text(
        "line one\nline 2\n", NOW, base_version=1, base_text="line one\nline two\n"
    )
    assert packet.nonce == 0 and packet.version == 3
    assert str(document.text) == ">> line one\nline 2\n"


def test_restore_rebuilds_text_and_version_from_history() -> None:
    document = _linked("hello")
    document.receive(1, [5, " world"], 3, NOW)
    restored = Document.restore(document.history)
    assert (restored.version, str(restored.text)) == (2, "hello world")
    assert restored.history == document.history


def test_restore_refuses_a_crc_mismatch_or_a_gap() -> None:
    good = Packet(1, ("abc",), 891568578, NOW)
    with pytest.raises(OTError, match="crc32 mismatch at version 1"):
        Document.restore([Packet(1, ("abc",), 1, NOW)])
    with pytest.raises(OTError, match="packet 3 where 2 was due"):
        Document.restore([good, Packet(3, (), 891568578, NOW)])


def _cursor(cid: str, pos: int, session: int = 2) -> Cursor:
    return Cursor(cid, pos, pos, pos + 1, session, 1, "alice")


def test_cursors_move_with_every_commit() -> None:
    document = _linked("abcdef")
    document.set_cursor(_cursor("c1", 3))
    document.receive(1, [1, "XY"], 0, NOW)
    document.receive(2, [Delete(1)], 0, NOW)
    assert document.cursors["c1"] == Cursor("c1", 4, 4, 5, 2, 1, "alice")


def test_a_cursor_is_clamped_to_the_text_and_replaced_by_id() -> None:
    document = _linked("abc")
    document.set_cursor(_cursor("c1", 1))
    stored = document.set_cursor(_cursor("c1", 10))
    assert (stored.position, stored.selection_end) == (3, 3)
    assert list(document.cursors) == ["c1"]


def test_a_session_may_hold_64_cursors_not_65() -> None:
    document = _linked("abc")
    for i in range(64):
        document.set_cursor(_cursor(f"c{i}", 0))
    document.set_cursor(_cursor("c0", 1))  # replacing one of its own is fine
    document.set_cursor(_cursor("other", 0, session=3))
    with pytest.raises(LimitExceeded) as caught:
        document.set_cursor(_cursor("c64", 0))
    assert str(caught.value) == "too many cursors"
    assert "c64" not in document.cursors


def test_only_the_owner_deletes_a_cursor_and_detach_removes_all_of_a_session() -> None:
    document = _linked("abc")
    document.set_cursor(_cursor("a", 0, session=2))
    document.set_cursor(_cursor("b", 0, session=2))
    document.set_cursor(_cursor("c", 0, session=3))
    assert not document.delete_cursor("a", session=3)
    assert not document.delete_cursor("missing", session=2)
    assert document.delete_cursor("a", session=2)
    assert document.remove_session_cursors(2) == ["b"]
    assert list(document.cursors) == ["c"]
