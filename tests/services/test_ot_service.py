"""The ot service through the harness: link flow, edits, errors, fetch, cursors (§5.5–§5.8)."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from goval._proto.api_pb2 import Command, OTCursor
from goval.identity import Role
from goval.ot import Delete
from goval.services.ot import OTService
from goval.services.ot_registry import DocumentRegistry
from goval.testing import ServiceHarness
from tests.services.ot_kit import bodies, cursor, edit, fetch, flush, link, packets, wire_ops


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "notes.txt").write_text("abc")
    harness = ServiceHarness(OTService, workspace, tmp_path / "state", channel_name="ot:notes.txt")
    yield harness
    await harness.aclose()


async def test_an_unlinked_channel_greets_with_an_empty_status(h: ServiceHarness) -> None:
    alice = await h.attach("alice")
    assert bodies(alice) == ["otstatus"]
    assert alice.received[0].otstatus == Command().otstatus


async def test_linking_sends_the_whole_text_to_the_linker_only_then_ok(h: ServiceHarness) -> None:
    alice = await h.attach("alice")
    bob = await h.attach("bob")
    reply = await h.request(alice, link("./notes.txt"))
    assert reply is not None and reply.WhichOneof("body") == "ok"
    (status,) = packets(alice)
    assert (status.ot.version, status.ot.spookyVersion) == (1, 1)
    assert wire_ops(status) == ["abc"]
    assert status.ot.crc32 == zlib.crc32(b"abc")
    assert status.ot.committed.seconds > 0
    assert packets(bob) == []


async def test_an_empty_file_links_at_version_one_with_no_ops(h: ServiceHarness) -> None:
    (h.resources.workspace_root / "empty.txt").write_text("")
    alice = await h.attach()
    await h.request(alice, link("empty.txt"))
    (status,) = packets(alice)
    assert (status.ot.version, list(status.ot.ops), status.ot.crc32) == (1, [], 0)


async def test_a_late_attacher_gets_the_full_status(h: ServiceHarness) -> None:
    alice = await h.attach()
    await h.request(alice, link("notes.txt"))
    await h.request(alice, edit(1, [3, "!"]))
    bob = await h.attach("bob")
    status = bob.received[0].otstatus
    assert (status.contents, status.version, status.linkedFile.path) == ("abc!", 2, "notes.txt")


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda ws: None, "open missing.txt: no such file or directory"),
        (lambda ws: (ws / "missing.txt").mkdir(), "read missing.txt: is a directory"),
        (
            lambda ws: (ws / "missing.txt").write_bytes(b"\xff\xfe"),
            "read missing.txt: invalid UTF-8",
        ),
        (lambda ws: (ws / "missing.txt").write_text("x" * 65), "read missing.txt: file too large"),
    ],
)
async def test_link_errors_change_nothing(
    h: ServiceHarness, monkeypatch: pytest.MonkeyPatch, make: object, error: str
) -> None:
    monkeypatch.setattr(DocumentRegistry, "max_bytes", 64)
    make(h.resources.workspace_root)  # type: ignore[operator]
    alice = await h.attach()
    reply = await h.request(alice, link("missing.txt"))
    assert reply is not None and reply.error == error
    assert packets(alice) == []
    unlinked = await h.request(alice, edit(0, ["x"]))
    assert unlinked is not None and unlinked.error == "not linked: send otLinkFile first"


async def test_a_linked_channel_refuses_another_path(h: ServiceHarness) -> None:
    (h.resources.workspace_root / "other.txt").write_text("o")
    alice = await h.attach()
    await h.request(alice, link("notes.txt"))
    reply = await h.request(alice, link("other.txt"))
    assert reply is not None and reply.error == "already linked to notes.txt"
    again = await h.request(alice, link("notes.txt"))
    assert again is not None and again.WhichOneof("body") == "ok"
    assert [p.ot.version for p in packets(alice)] == [1, 1]


async def test_unlinked_edits_and_flushes_are_refused(h: ServiceHarness) -> None:
    alice = await h.attach()
    for command in (edit(0, ["x"]), flush(), fetch(0, 0)):
        reply = await h.request(alice, command)
        assert reply is not None and reply.error == "not linked: send otLinkFile first"


async def test_a_reader_may_link_fetch_flush_and_point_but_not_edit(h: ServiceHarness) -> None:
    reader = await h.attach("rita", Role.READ)
    assert (await h.request(reader, link("notes.txt"))).WhichOneof("body") == "ok"  # type: ignore[union-attr]
    assert (await h.request(reader, fetch(0, 0))).WhichOneof("body") == "otFetchResponse"  # type: ignore[union-attr]
    assert (await h.request(reader, flush())).WhichOneof("body") == "ok"  # type: ignore[union-attr]
    assert await h.request(reader, cursor("c", 1)) is None
    denied = await h.request(reader, edit(1, ["x"]))
    assert denied is not None and denied.error == "permission denied: ot"


async def test_an_edit_is_broadcast_to_everyone_including_the_sender_then_ok(
    h: ServiceHarness,
) -> None:
    alice = await h.attach("alice")
    bob = await h.attach("bob")
    await h.request(alice, link("notes.txt"))
    reply = await h.request(alice, edit(1, [1, Delete(1), "B", 1, 0], nonce=77))
    assert reply is None  # the router turns this into ok{} with the ref
    for peer in (alice, bob):
        packet = packets(peer)[-1]
        assert packet.session == 0
        assert (packet.ot.version, packet.ot.spookyVersion, packet.ot.nonce) == (2, 2, 77)
        assert wire_ops(packet) == [1, {"d": 1}, "B"]  # normalised: no trailing skip
        assert packet.ot.crc32 == zlib.crc32(b"aBc")


async def test_an_empty_op_still_commits_one_packet(h: ServiceHarness) -> None:
    alice = await h.attach()
    await h.request(alice, link("notes.txt"))
    await h.request(alice, edit(1, [2, 0]))
    assert [(p.ot.version, wire_ops(p)) for p in packets(alice)] == [(1, ["abc"]), (2, [])]


async def test_a_stale_op_is_transformed_against_everything_committed_since(
    h: ServiceHarness,
) -> None:
    alice = await h.attach()
    await h.request(alice, link("notes.txt"))
    await h.request(alice, edit(1, ["X"]))
    await h.request(alice, edit(1, ["Y"], spooky_only=True))  # base 1 again
    await h.request(alice, edit(1, [3, Delete(0), "Z"]))
    assert [wire_ops(p) for p in packets(alice)][1:] == [["X"], [1, "Y"], [5, "Z"]]


async def test_future_versions_and_long_ops_are_refused_and_nothing_commits(
    h: ServiceHarness,
) -> None:
    alice = await h.attach()
    await h.request(alice, link("notes.txt"))
    future = await h.request(alice, edit(2, ["x"]))
    assert future is not None and future.error == "invalid version 2 (current version is 1)"
    long = await h.request(alice, edit(1, [2, Delete(5)]))
    assert long is not None and long.error == "invalid op: too long for the document (7 > 3)"
    skip = await h.request(alice, edit(0, [4, "x"]))  # base 0: transformed through v1 = 7 > 3
    assert skip is not None and skip.error == "invalid op: too long for the document (7 > 3)"
    assert [p.ot.version for p in packets(alice)] == [1]
    reply = await h.request(alice, fetch(0, 0))
    assert reply is not None and len(reply.otFetchResponse.packets) == 1


async def test_an_edit_may_not_grow_the_document_past_its_limit(
    h: ServiceHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DocumentRegistry, "max_bytes", 8)
    alice = await h.attach()
    await h.request(alice, link("notes.txt"))
    reply = await h.request(alice, edit(1, ["😀😀"]))
    assert reply is not None and reply.error == "invalid op: document too large (11 > 8 bytes)"
    assert await h.request(alice, edit(1, ["😀"])) is None


async def test_fetch_returns_inclusive_ranges_exactly_as_broadcast(h: ServiceHarness) -> None:
    alice = await h.attach()
    await h.request(alice, link("notes.txt"))
    for n in range(1, 4):
        await h.request(alice, edit(n, [n, str(n)]))
    broadcast = [p.ot for p in packets(alice)]
    whole = await h.request(alice, fetch(0, 0))
    assert whole is not None and list(whole.otFetchResponse.packets) == broadcast
    middle = await h.request(alice, fetch(2, 3))
    assert middle is not None and list(middle.otFetchResponse.packets) == broadcast[1:3]
    one = await h.request(alice, fetch(4, 4))
    assert one is not None and list(one.otFetchResponse.packets) == broadcast[3:]


@pytest.mark.parametrize(
    ("first", "last", "error"),
    [
        (3, 2, "invalid version range 3..2 (current version is 4)"),
        (0, 5, "invalid version range 1..5 (current version is 4)"),
        (5, 0, "invalid version range 5..4 (current version is 4)"),
    ],
)
async def test_bad_fetch_ranges_are_refused(
    h: ServiceHarness, first: int, last: int, error: str
) -> None:
    alice = await h.attach()
    await h.request(alice, link("notes.txt"))
    for n in range(1, 4):
        await h.request(alice, edit(n, ["x"]))
    reply = await h.request(alice, fetch(first, last))
    assert reply is not None and reply.error == error


async def test_a_fetch_bigger_than_one_message_is_refused(h: ServiceHarness) -> None:
    object.__setattr__(h.resources, "max_message", 300)
    alice = await h.attach()
    await h.request(alice, link("notes.txt"))
    for n in range(1, 12):
        await h.request(alice, edit(n, ["0123456789"]))
    reply = await h.request(alice, fetch(0, 0))
    assert reply is not None and reply.error == "fetch range too large"
    small = await h.request(alice, fetch(1, 2))
    assert small is not None and len(small.otFetchResponse.packets) == 2


async def test_cursors_are_forwarded_kept_transformed_and_removed_on_detach(
    h: ServiceHarness,
) -> None:
    alice = await h.attach("alice", user_id=1)
    bob = await h.attach("bob", user_id=2)
    await h.request(alice, link("notes.txt"))
    assert await h.request(alice, cursor("a1", 2, 1, 3)) is None
    (forwarded,) = [c for c in bob.received if c.WhichOneof("body") == "otNewCursor"]
    assert forwarded.session == -alice.session_id
    assert (forwarded.otNewCursor.position, forwarded.otNewCursor.id) == (2, "a1")
    assert forwarded.otNewCursor.user.name == "alice"
    assert forwarded.otNewCursor.user.session == alice.session_id
    assert "otNewCursor" not in bodies(alice)

    await h.request(bob, edit(1, ["XY"]))  # moves the cursor two code points right
    carol = await h.attach("carol", user_id=3)
    (stored,) = carol.received[0].otstatus.cursors
    assert (stored.position, stored.selectionStart, stored.selectionEnd) == (4, 3, 5)
    assert stored.user.name == "alice"

    await h.request(bob, Command(otDeleteCursor=OTCursor(id="a1")))  # not bob's: ignored
    assert "otDeleteCursor" not in bodies(alice) + bodies(carol)
    await h.detach(alice)
    deleted = [c for c in carol.received if c.WhichOneof("body") == "otDeleteCursor"]
    assert [c.otDeleteCursor.id for c in deleted] == ["a1"]
    dave = await h.attach("dave", user_id=4)
    assert list(dave.received[0].otstatus.cursors) == []


async def test_the_65th_cursor_of_a_session_is_refused(h: ServiceHarness) -> None:
    alice = await h.attach()
    await h.request(alice, link("notes.txt"))
    for n in range(64):
        assert await h.request(alice, cursor(f"c{n}", 0)) is None
    refused = await h.request(alice, cursor("c64", 0))
    assert refused is not None and refused.error == "too many cursors"
    assert await h.request(alice, cursor("c0", 1)) is None  # replacing one of its own is fine


async def test_flush_writes_the_text_to_the_file_before_ok(h: ServiceHarness) -> None:
    alice = await h.attach()
    await h.request(alice, link("notes.txt"))
    await h.request(alice, edit(1, [3, "def"]))
    reply = await h.request(alice, flush())
    assert reply is not None and reply.WhichOneof("body") == "ok"
    assert (h.resources.workspace_root / "notes.txt").read_text() == "abcdef"
