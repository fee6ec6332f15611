"""The ot service and the file on disk: writes, disk changes, removal, restarts (§5.9, §5.10)."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from goval.ot import Delete
from goval.services.ot import OTService
from goval.services.ot_registry import DocumentRegistry
from goval.services.process_env import run_before_process_start
from goval.testing import FakePeer, ServiceHarness
from tests.services.ot_kit import edit, fetch, link, packets, wire_ops


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.02)


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "notes.txt").write_text("line one\nline two\n")
    return workspace, tmp_path / "state"


@pytest.fixture
async def h(paths: tuple[Path, Path]) -> AsyncIterator[ServiceHarness]:
    harness = ServiceHarness(OTService, paths[0], paths[1])
    yield harness
    await harness.aclose()


async def linked(h: ServiceHarness, name: str = "alice") -> FakePeer:
    peer = await h.attach(name)
    reply = await h.request(peer, link("notes.txt"))
    assert reply is not None and reply.WhichOneof("body") == "ok", reply
    return peer


async def test_edits_reach_the_file_within_a_second_and_are_not_echoed(
    h: ServiceHarness,
) -> None:
    alice = await linked(h)
    started = time.monotonic()
    await h.request(alice, edit(1, ["# "]))
    file = h.resources.workspace_root / "notes.txt"
    await eventually(lambda: file.read_text().startswith("# "))
    assert time.monotonic() - started < 1.0
    await asyncio.sleep(0.8)  # the watcher has seen our own write by now
    assert [p.ot.version for p in packets(alice)] == [1, 2]


async def test_a_change_on_disk_becomes_one_diff_packet_for_everyone(h: ServiceHarness) -> None:
    alice = await linked(h)
    bob = await h.attach("bob")
    (h.resources.workspace_root / "notes.txt").write_text("line one\nline 2\n")
    await eventually(lambda: len(packets(bob)) == 1)
    (packet,) = packets(bob)
    assert packet.ot.version == 2 and packet.ot.nonce == 0
    assert wire_ops(packet) == [14, {"d": 3}, "2"]
    assert packet.ot.crc32 == zlib.crc32(b"line one\nline 2\n")
    assert packets(alice)[-1] == packet
    await asyncio.sleep(0.6)
    assert len(packets(bob)) == 1


async def test_unwritten_edits_are_merged_with_a_disk_change(
    h: ServiceHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DocumentRegistry, "write_delay", 30.0)
    alice = await linked(h)
    await h.request(alice, edit(1, ["# "]))  # not written yet
    file = h.resources.workspace_root / "notes.txt"
    file.write_text("line one\nline two\nline three\n")
    await eventually(lambda: len(packets(alice)) == 3)
    merged = "# line one\nline two\nline three\n"
    assert packets(alice)[-1].ot.crc32 == zlib.crc32(merged.encode())
    await eventually(lambda: file.read_text() == merged)


async def test_invalid_utf8_on_disk_is_ignored_until_valid(h: ServiceHarness) -> None:
    alice = await linked(h)
    file = h.resources.workspace_root / "notes.txt"
    file.write_bytes(b"\xff broken")
    await asyncio.sleep(0.7)
    assert len(packets(alice)) == 1
    file.write_text("fixed\n")
    await eventually(lambda: len(packets(alice)) == 2)
    assert packets(alice)[-1].ot.crc32 == zlib.crc32(b"fixed\n")


async def test_a_removed_file_is_announced_and_not_recreated_until_it_returns(
    h: ServiceHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DocumentRegistry, "write_delay", 0.05)
    alice = await linked(h)
    file = h.resources.workspace_root / "notes.txt"
    file.unlink()
    await eventually(lambda: any(c.error for c in alice.received))
    (error,) = [c for c in alice.received if c.error]
    assert error.error == "linked file notes.txt was removed" and error.session == 0
    await h.request(alice, edit(1, ["kept "]))  # edits go on in memory
    await asyncio.sleep(0.3)
    assert not file.exists()
    file.write_text("new\n")
    await eventually(lambda: len(packets(alice)) == 3)
    await eventually(lambda: file.read_text() == "kept new\n")


async def test_history_survives_a_restart_and_a_changed_file_becomes_a_diff_on_link(
    paths: tuple[Path, Path],
) -> None:
    workspace, state = paths
    first = ServiceHarness(OTService, workspace, state)
    alice = await linked(first)
    await first.request(alice, edit(1, [Delete(4), "LINE"]))
    broadcast = [p.ot for p in packets(alice)]
    await first.aclose()
    assert (workspace / "notes.txt").read_text() == "LINE one\nline two\n"
    (workspace / "notes.txt").write_text("LINE one\nline two\nmore\n")

    second = ServiceHarness(OTService, workspace, state)
    try:
        bob = await linked(second, "bob")
        (status,) = packets(bob)
        assert status.ot.version == 3
        reply = await second.request(bob, fetch(0, 0))
        assert reply is not None
        history = list(reply.otFetchResponse.packets)
        assert history[:2] == broadcast
        added = history[2]
        assert (added.version, added.nonce) == (3, 0)
        assert [(c.skip, c.insert) for c in added.ops] == [(18, ""), (0, "more\n")]
    finally:
        await second.aclose()


async def test_processes_start_after_unwritten_edits_are_flushed(
    h: ServiceHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DocumentRegistry, "write_delay", 30.0)
    alice = await linked(h)
    await h.request(alice, edit(1, ["# "]))
    file = h.resources.workspace_root / "notes.txt"
    assert file.read_text() == "line one\nline two\n"
    await run_before_process_start(h.server)
    assert file.read_text() == "# line one\nline two\n"
