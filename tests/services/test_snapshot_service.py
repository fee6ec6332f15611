"""snapshot (§4.8): fsSnapshot, locks it waits for, checkChanges — against a real git store."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from goval._proto.api_pb2 import CheckChanges, Command, File, FSLock, FSSnapshot
from goval.services.base import Deferred
from goval.services.snapshot import SNAPSHOT_STORE_DIR, SnapshotService, snapshot_locks
from goval.testing import FakePeer, ServiceHarness


@pytest.fixture
async def snap(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    harness = ServiceHarness(SnapshotService, tmp_path)
    yield harness
    await harness.aclose()


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout


def lock(name: str) -> Command:
    return Command(fsTakeLock=FSLock(name=name))


def unlock(name: str) -> Command:
    return Command(fsReleaseLock=FSLock(name=name))


async def ask(h: ServiceHarness, peer: FakePeer, command: Command) -> Command:
    reply = await h.request(peer, command)
    assert reply is not None
    return reply


async def changed(h: ServiceHarness, peer: FakePeer) -> list[str]:
    reply = await h.request(peer, Command(checkChanges=CheckChanges()))
    assert reply is not None and reply.WhichOneof("body") == "changedFiles", reply
    return [f.path for f in reply.changedFiles.files]


async def test_check_changes_lists_added_modified_and_deleted_since_the_last_snapshot(
    snap: ServiceHarness, tmp_path: Path
) -> None:
    peer = await snap.attach()
    (tmp_path / "keep.txt").write_text("1")
    (tmp_path / "edit.txt").write_text("1")
    (tmp_path / "gone.txt").write_text("1")
    assert await changed(snap, peer) == ["edit.txt", "gone.txt", "keep.txt"]
    reply = await snap.request(peer, Command(fsSnapshot=FSSnapshot()))
    assert reply is not None and reply.WhichOneof("body") == "ok"
    assert await changed(snap, peer) == []
    (tmp_path / "edit.txt").write_text("2")
    (tmp_path / "gone.txt").unlink()
    (tmp_path / "new" / "n.txt").parent.mkdir()
    (tmp_path / "new" / "n.txt").write_text("n")
    assert await changed(snap, peer) == ["edit.txt", "gone.txt", "new/n.txt"]


async def test_snapshots_live_in_the_state_dir_and_never_touch_the_users_git(
    snap: ServiceHarness, tmp_path: Path
) -> None:
    git("init", "-q", str(tmp_path))
    peer = await snap.attach()
    (tmp_path / "a.txt").write_text("a")
    await snap.request(peer, Command(fsSnapshot=FSSnapshot()))
    store = f"--git-dir={tmp_path / '.goval' / SNAPSHOT_STORE_DIR}"
    assert git(store, "log", "--format=%s").split() == ["snapshot"]
    assert git("-C", str(tmp_path), "rev-list", "--all") == ""  # the user's repo is untouched
    assert git(store, "ls-tree", "-r", "--name-only", "HEAD").split() == ["a.txt"]


async def test_lock_errors_have_the_exact_texts(snap: ServiceHarness) -> None:
    alice = await snap.attach("alice")
    bob = await snap.attach("bob")
    assert (await ask(snap, alice, lock("build"))).WhichOneof("body") == "ok"
    assert (await ask(snap, alice, lock("build"))).error == "lock build is held"
    assert (await ask(snap, bob, lock("build"))).error == "lock build is held"
    assert (await ask(snap, bob, unlock("build"))).error == "lock build is not held"
    assert (await ask(snap, alice, unlock("nope"))).error == "lock nope is not held"
    assert (await ask(snap, alice, unlock("build"))).WhichOneof("body") == "ok"


async def test_a_snapshot_waits_for_the_locks_and_a_detach_releases_them(
    snap: ServiceHarness, tmp_path: Path
) -> None:
    alice = await snap.attach("alice")
    bob = await snap.attach("bob")
    await snap.request(alice, lock("one"))
    await snap.request(alice, lock("two"))
    (tmp_path / "f.txt").write_text("x")
    deferred = await snap.service.handle(bob, Command(fsSnapshot=FSSnapshot()), "fsSnapshot")
    assert isinstance(deferred, Deferred)
    pending = asyncio.ensure_future(deferred.reply)
    await snap.request(alice, unlock("one"))
    await asyncio.sleep(0.1)
    assert not pending.done()  # "two" is still held
    await snap.detach(alice)  # its remaining lock dies with the detach
    reply = await asyncio.wait_for(pending, 10)
    assert reply is not None and reply.WhichOneof("body") == "ok"
    assert await changed(snap, bob) == []


async def test_a_snapshot_gives_up_after_the_lock_timeout(snap: ServiceHarness) -> None:
    alice = await snap.attach("alice")
    await snap.request(alice, lock("forever"))
    assert isinstance(snap.service, SnapshotService)
    snap.service.lock_timeout = 0.1
    reply = await snap.request(alice, Command(fsSnapshot=FSSnapshot()))
    assert reply is not None and reply.error == "snapshot timed out waiting for locks"


async def test_closing_the_channel_releases_its_locks(tmp_path: Path) -> None:
    first = ServiceHarness(SnapshotService, tmp_path)
    peer = await first.attach()
    await first.request(peer, lock("build"))
    locks = snapshot_locks(first.service.ctx)
    assert locks.held
    await first.service.aclose()
    assert not locks.held
    first.resources.close()


async def test_other_bodies_are_unsupported(snap: ServiceHarness) -> None:
    peer = await snap.attach()
    reply = await snap.request(peer, Command(read=File(path="x")))
    assert reply is not None and reply.error == "unsupported command read on service snapshot"
