"""fsevents (§4.2) with the real workspace watcher: events from any writer, filtered per channel."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from goval._proto.api_pb2 import Command, File, FileEvent, SubscribeFile
from goval.host.watcher import FileChange, WorkspaceWatcher
from goval.services.fsevents import FsEventsService, workspace_watcher
from goval.testing import FakePeer, ServiceHarness

Event = tuple[str, str, str]  # (op, path, dest)


@pytest.fixture
async def fs(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    harness = ServiceHarness(FsEventsService, tmp_path)
    yield harness
    await workspace_watcher(harness.service.ctx).aclose()
    await harness.aclose()


async def subscribe(h: ServiceHarness, *paths: str) -> FakePeer:
    peer = h.channel.attached[0] if h.channel.attached else await h.attach()
    reply = await h.request(
        peer, Command(subscribeFile=SubscribeFile(files=[File(path=p) for p in paths]))
    )
    assert reply is not None and reply.WhichOneof("body") == "ok", reply
    return peer


def events(peer: FakePeer) -> list[Event]:
    seen = []
    for command in peer.received:
        event = command.fileEvent
        seen.append((FileEvent.Op.Name(event.op), event.file.path, event.dest.path))
    return seen


async def wait_for(
    peer: FakePeer, wanted: list[Event], timeout: float = 5.0, ordered: bool = True
) -> None:
    """Wait until ``wanted`` appear (in order, if ``ordered``) among the peer's events."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def seen() -> list[Event]:
        found = [e for e in events(peer) if e in wanted]
        return found if ordered else sorted(found)

    while seen() != (wanted if ordered else sorted(wanted)):
        assert loop.time() < deadline, f"wanted {wanted}, got {events(peer)}"
        await asyncio.sleep(0.02)


def append(path: Path, text: str) -> None:
    with open(path, "a") as out:
        out.write(text)


def shell(script: str, cwd: Path) -> None:
    subprocess.run(["sh", "-c", script], cwd=cwd, check=True)


async def settle() -> None:
    await asyncio.sleep(0.25)  # longer than a debounce step: the next change is its own batch


async def test_a_directory_reports_create_modify_move_and_remove_of_its_children(
    fs: ServiceHarness, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    peer = await subscribe(fs, "src")
    (tmp_path / "src" / "a.txt").write_text("1")
    await settle()
    append(tmp_path / "src" / "a.txt", "2")
    await settle()
    os.rename(tmp_path / "src" / "a.txt", tmp_path / "src" / "b.txt")
    await settle()
    (tmp_path / "src" / "b.txt").unlink()
    await wait_for(
        peer,
        [
            ("Create", "src/a.txt", ""),
            ("Modify", "src/a.txt", ""),
            ("Move", "src/a.txt", "src/b.txt"),
            ("Remove", "src/b.txt", ""),
        ],
    )
    assert all(c.session == 0 and c.channel == fs.channel.id for c in peer.received)
    assert all(not c.ref for c in peer.received)


async def test_changes_by_a_shell_command_are_reported(fs: ServiceHarness, tmp_path: Path) -> None:
    peer = await subscribe(fs, ".")
    shell("mkdir made && echo hi > shell.txt", tmp_path)
    await wait_for(peer, [("Create", "made", ""), ("Create", "shell.txt", "")], ordered=False)
    types = {c.fileEvent.file.path: c.fileEvent.file.type for c in peer.received}
    assert types["made"] == File.DIRECTORY and types["shell.txt"] == File.REGULAR


async def test_an_atomic_replace_of_an_existing_file_is_one_modify(
    fs: ServiceHarness, tmp_path: Path
) -> None:
    (tmp_path / "doc.txt").write_text("old")
    peer = await subscribe(fs, "doc.txt")
    fs.resources.workspace.write("doc.txt", b"new")  # temp file + rename, as an editor does
    await wait_for(peer, [("Modify", "doc.txt", "")])
    await settle()
    assert events(peer) == [("Modify", "doc.txt", "")]


async def test_a_subscribed_file_reports_itself_only_and_a_missing_path_its_creation(
    fs: ServiceHarness, tmp_path: Path
) -> None:
    (tmp_path / "one.txt").write_text("1")
    peer = await subscribe(fs, "one.txt", "later/new.txt")
    (tmp_path / "other.txt").write_text("x")
    (tmp_path / "one.txt").write_text("2")
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "new.txt").write_text("n")
    wanted = [("Modify", "one.txt", ""), ("Create", "later/new.txt", "")]
    await wait_for(peer, wanted, ordered=False)
    await settle()
    paths = {path for _, path, _ in events(peer)}
    assert paths == {"one.txt", "later/new.txt"}


async def test_a_directory_does_not_report_grandchildren(
    fs: ServiceHarness, tmp_path: Path
) -> None:
    (tmp_path / "top" / "deep").mkdir(parents=True)
    peer = await subscribe(fs, "top")
    (tmp_path / "top" / "deep" / "grandchild.txt").write_text("g")
    await settle()
    (tmp_path / "top" / "child.txt").write_text("c")
    await wait_for(peer, [("Create", "top/child.txt", "")])
    assert ("Create", "top/deep/grandchild.txt", "") not in events(peer)


async def test_the_state_directory_never_produces_events(
    fs: ServiceHarness, tmp_path: Path
) -> None:
    peer = await subscribe(fs, ".", ".goval")
    (tmp_path / ".goval" / "noise").write_text("state")
    await settle()
    (tmp_path / "visible.txt").write_text("v")
    await wait_for(peer, [("Create", "visible.txt", "")])
    assert all(not path.startswith(".goval") for _, path, _ in events(peer))


async def test_subscriptions_are_cumulative(fs: ServiceHarness, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    peer = await subscribe(fs, "a")
    await subscribe(fs, "b")
    (tmp_path / "a" / "1").write_text("1")
    (tmp_path / "b" / "2").write_text("2")
    await wait_for(peer, [("Create", "a/1", ""), ("Create", "b/2", "")], ordered=False)


async def test_an_escaping_subscription_is_refused(fs: ServiceHarness) -> None:
    peer = await fs.attach()
    reply = await fs.request(peer, Command(subscribeFile=SubscribeFile(files=[File(path="../x")])))
    assert reply is not None and reply.error == "open ../x: permission denied"


async def test_a_move_out_of_view_is_a_remove_and_into_view_a_create(
    fs: ServiceHarness, tmp_path: Path
) -> None:
    (tmp_path / "seen").mkdir()
    (tmp_path / "seen" / "f.txt").write_text("f")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "in.txt").write_text("i")
    peer = await subscribe(fs, "seen")
    os.rename(tmp_path / "seen" / "f.txt", outside / "f.txt")
    await settle()
    os.rename(outside / "in.txt", tmp_path / "seen" / "in.txt")
    await wait_for(peer, [("Remove", "seen/f.txt", ""), ("Create", "seen/in.txt", "")])


async def test_the_watcher_delivers_to_every_subscriber_until_unsubscribed(
    tmp_path: Path,
) -> None:
    watcher = WorkspaceWatcher(tmp_path, lambda p: os.path.relpath(p, tmp_path))
    first: list[FileChange] = []
    second: list[FileChange] = []
    watcher.subscribe(first.extend)
    unsubscribe = watcher.subscribe(second.extend)
    try:
        await watcher.start()
        (tmp_path / "x").write_text("x")
        async with asyncio.timeout(5):
            while not first or not second:
                await asyncio.sleep(0.02)
        unsubscribe()
        (tmp_path / "y").write_text("y")
        async with asyncio.timeout(5):
            while len(first) < 2:
                await asyncio.sleep(0.02)
        assert [c.path for c in first] == ["x", "y"]
        assert [c.path for c in second] == ["x"]
    finally:
        await watcher.aclose()
    assert not watcher.running


async def test_files_made_inside_a_brand_new_directory_are_reported_too(
    fs: ServiceHarness, tmp_path: Path
) -> None:
    peer = await subscribe(fs, "nest/inner")  # missing yet: its creation is awaited
    shell("mkdir -p nest/inner && echo x > nest/inner/f.txt", tmp_path)
    await wait_for(peer, [("Create", "nest/inner", ""), ("Create", "nest/inner/f.txt", "")])


async def test_a_missing_path_is_told_of_its_creation_however_the_watcher_found_it(
    fs: ServiceHarness,
) -> None:
    peer = await subscribe(fs, "later/new.txt")
    watcher = workspace_watcher(fs.service.ctx)
    # What a batch gives when the file turns up in the scan of its new directory (no events
    # of its own), and then when inotify reports it in a batch of its own.
    watcher._deliver([FileChange("create", "later", True), FileChange("create", "later/new.txt")])
    watcher._deliver([FileChange("modify", "later/new.txt")])
    assert events(peer) == [("Create", "later/new.txt", ""), ("Modify", "later/new.txt", "")]
