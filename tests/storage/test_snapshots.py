"""Snapshots in a real private git store, and the snapshot locks."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from goval.errors import GovalError
from goval.storage import Locks, SnapshotStore


@pytest.fixture
def store(root: Path) -> SnapshotStore:
    state = root / ".goval"
    return SnapshotStore(state / "snapshots.git", root, state)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".goval" not in p.parts
    }


def test_snapshot_commits_only_when_something_changed(store: SnapshotStore, root: Path) -> None:
    assert store.snapshot("empty") is None
    (root / "main.py").write_text("print(1)\n")
    first = store.snapshot("first")
    assert first is not None and len(first) == 40
    assert store.snapshot("again") is None
    (root / "main.py").write_text("print(2)\n")
    second = store.snapshot("second\nwith body")
    assert [(s.rev, s.message) for s in store.list()] == [
        (second, "second\nwith body"),
        (first, "first"),
    ]
    assert all(s.time > 1_600_000_000 for s in store.list())


def test_changed_files_lists_added_modified_and_deleted_paths(
    store: SnapshotStore, root: Path
) -> None:
    (root / "keep").write_text("k")
    (root / "edit").write_text("1")
    (root / "gone").write_text("g")
    assert store.changed_files() == ["edit", "gone", "keep"]
    store.snapshot("base")
    assert store.changed_files() == []
    (root / "edit").write_text("2")
    (root / "gone").unlink()
    (root / "sub").mkdir()
    (root / "sub/new file é").write_text("n")
    assert store.changed_files() == ["edit", "gone", "sub/new file é"]


def test_ignored_and_private_paths_are_never_snapshotted(store: SnapshotStore, root: Path) -> None:
    (root / ".gitignore").write_text("*.log\nbuild/\n")
    for rel in (
        "app.log",
        "build/out",
        ".venv/bin/python",
        "node_modules/x/i.js",
        "lib/node_modules/y",
        ".goval/db",
        "src/ok.py",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    assert store.changed_files() == [".gitignore", "src/ok.py"]


def test_the_users_own_git_repository_is_untouched(store: SnapshotStore, root: Path) -> None:
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    before = sorted(str(p.relative_to(root)) for p in (root / ".git").rglob("*"))
    (root / "a.txt").write_text("a")
    assert store.snapshot("s") is not None
    assert store.changed_files() == []
    after = sorted(str(p.relative_to(root)) for p in (root / ".git").rglob("*"))
    assert after == before
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, env=env, capture_output=True, check=True
    )
    assert status.stdout.decode().splitlines() == ["?? .goval/", "?? a.txt"]


def test_restore_rewrites_changed_files_and_removes_added_ones(
    store: SnapshotStore, root: Path
) -> None:
    (root / ".gitignore").write_text("secret.env\n")
    (root / "a.txt").write_text("v1")
    (root / "dir").mkdir()
    (root / "dir/b.txt").write_text("b1")
    old = store.snapshot("v1")
    assert old is not None
    expected = _files(root)
    (root / "a.txt").write_text("v2")
    (root / "dir/b.txt").unlink()
    (root / "added").mkdir()
    (root / "added/new.txt").write_text("new")
    (root / "secret.env").write_text("TOKEN=1")
    store.snapshot("v2")
    (root / "uncommitted.txt").write_text("u")
    store.restore(old)
    assert _files(root) == {**expected, "secret.env": b"TOKEN=1"}
    assert not (root / "added").exists()
    assert [s.message for s in store.list()] == ["v2", "v1"]


def test_restore_of_an_unknown_revision_is_an_error(store: SnapshotStore, root: Path) -> None:
    (root / "a").write_text("a")
    store.snapshot("s")
    for rev in ("0" * 40, "--help", "nope"):
        with pytest.raises(GovalError, match=r"^unknown snapshot "):
            store.restore(rev)
    assert (root / "a").read_text() == "a"


def test_the_store_survives_reopening(root: Path) -> None:
    state = root / ".goval"
    (root / "x").write_text("x")
    rev = SnapshotStore(state / "s.git", root, state).snapshot("one")
    reopened = SnapshotStore(state / "s.git", root, state)
    assert [s.rev for s in reopened.list()] == [rev]
    assert reopened.changed_files() == []


# -- locks ------------------------------------------------------------------------------------


def test_locks_are_owned_by_one_session() -> None:
    locks = Locks()
    locks.take("build", 2)
    with pytest.raises(GovalError, match=r"^lock build is held$"):
        locks.take("build", 3)
    with pytest.raises(GovalError, match=r"^lock build is held$"):
        locks.take("build", 2)
    with pytest.raises(GovalError, match=r"^lock build is not held$"):
        locks.release("build", 3)
    with pytest.raises(GovalError, match=r"^lock other is not held$"):
        locks.release("other", 2)
    locks.release("build", 2)
    assert not locks.held


def test_release_all_frees_a_detached_sessions_locks() -> None:
    locks = Locks()
    locks.take("a", 2)
    locks.take("b", 2)
    locks.take("c", 3)
    assert locks.release_all(2) == ["a", "b"]
    assert locks.holder("c") == 3
    assert locks.holder("a") is None


async def test_wait_free_returns_when_the_last_lock_is_released() -> None:
    locks = Locks()
    await locks.wait_free(0.01)  # nothing held: immediate
    locks.take("a", 2)
    locks.take("b", 3)
    waiter = asyncio.create_task(locks.wait_free(5))
    await asyncio.sleep(0.01)
    locks.release("a", 2)
    await asyncio.sleep(0.01)
    assert not waiter.done()
    locks.release_all(3)
    await asyncio.wait_for(waiter, 1)


async def test_wait_free_times_out_with_the_wire_text() -> None:
    locks = Locks()
    locks.take("a", 2)
    with pytest.raises(GovalError, match=r"^snapshot timed out waiting for locks$"):
        await locks.wait_free(0.05)
