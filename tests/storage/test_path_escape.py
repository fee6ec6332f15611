"""Path-escape corpus: every operation, every trick; nothing outside the root may change.

Each case names a client path and whether it escapes through a *directory* component (every
operation must answer ``permission denied``) or only through its *final* component (operations
that follow the last symlink must refuse; remove/move act on the link itself, inside the root).
A sentinel tree beside the root is hashed before and after every case.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from goval.errors import FileError
from goval.storage import Workspace

FOLLOWING_OPS = ("read", "write", "mkdir", "readdir", "stat")
ALL_OPS = (*FOLLOWING_OPS, "remove", "move_src", "move_dst")


@dataclass(frozen=True)
class Case:
    path: str
    escape: str  # "path", "final" or "" (stays inside)


def _cases(tmp_rel: str) -> list[Case]:
    """``tmp_rel`` is the test's tmp_path without the leading slash (for ``to_root/...``)."""
    return [
        Case("..", "path"),
        Case("../x", "path"),
        Case("a/../../x", "path"),
        Case("../outside/file.txt", "path"),
        Case("./../outside/new", "path"),
        Case("a/b/../../../outside/new", "path"),
        Case("a/./../../outside", "path"),
        Case("a\x00b", "path"),
        Case("\x00", "path"),
        Case("ok/\x00/../x", "path"),
        Case(f"to_root/{tmp_rel}/outside/new", "path"),
        Case(f"to_root/{tmp_rel}/outside/file.txt", "path"),
        Case("to_root", "final"),
        Case("to_sibling/new", "path"),
        Case("to_sibling/file.txt", "path"),
        Case("to_sibling/sub/deeper", "path"),
        Case("to_sibling", "final"),
        Case("to_sibling_abs/new", "path"),
        Case("chain1/new", "path"),
        Case("chain1", "final"),
        Case("mid/esc/new", "path"),
        Case("mid/esc/sub/deeper", "path"),
        Case("mid/../to_sibling/x", "path"),
        Case("dotdot_link/outside/new", "path"),
        Case("via_parent/x", "path"),
        Case("loop1/x", "path"),
        Case("loop1", "final"),
        Case("/etc/passwd", ""),
        Case("//etc//passwd", ""),
        Case("%2e%2e/outside", ""),
        Case("..%2f..%2foutside", ""),
        Case("..\\..\\outside", ""),
        Case(" ../x", ""),
        Case("\u2024\u2024/x", ""),  # one-dot leaders
        Case("\u2025/x", ""),  # two-dot leader
        Case("..\u200b/x", ""),  # zero-width space after the dots
        Case("\uff0e\uff0e/x", ""),  # fullwidth full stops
        Case("self/self/self/../../x", ""),
        Case("inside_abs/new", ""),
        Case("root_abs/new", ""),
        Case("rel_inside/new", ""),
    ]


def _tree_digest(top: Path) -> str:
    """Names, types, modes, link targets and contents of a tree, in one hash."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath, name)
            st = p.lstat()
            h.update(f"{p.relative_to(top)}|{st.st_mode}|".encode())
            if p.is_symlink():
                h.update(os.readlink(p).encode())
            elif p.is_file():
                h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Workspace, Path, Path]]:
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "file.txt").write_text("sentinel")
    (outside / "sub/deep.txt").write_text("deep")
    root = tmp_path / "ws"
    (root / "mid").mkdir(parents=True)
    (root / "sub").mkdir()
    (root / "a/b").mkdir(parents=True)
    (root / "ok").mkdir()
    (root / "src_file").write_text("movable")
    links = {
        "to_root": "/",
        "to_sibling": "../outside",
        "to_sibling_abs": str(outside),
        "chain1": "chain2",
        "chain2": "chain3",
        "chain3": "../outside",
        "mid/esc": "../../outside",
        "dotdot_link": "..",
        "via_parent": "../ws/sub",
        "loop1": "loop2",
        "loop2": "loop1",
        "self": ".",
        "inside_abs": str(root / "sub"),
        "root_abs": str(root),
        "rel_inside": "mid/../sub",
    }
    for name, target in links.items():
        (root / name).symlink_to(target)
    with Workspace(root, None) as ws:
        yield ws, root, outside


def _run(ws: Workspace, op: str, path: str) -> None:
    actions: dict[str, Callable[[], object]] = {
        "read": lambda: ws.read(path, 1 << 20),
        "write": lambda: ws.write(path, b"pwned"),
        "mkdir": lambda: ws.mkdir(path),
        "readdir": lambda: ws.readdir(path),
        "stat": lambda: ws.stat(path),
        "remove": lambda: ws.remove(path),
        "move_src": lambda: ws.move(path, "moved_here"),
        "move_dst": lambda: ws.move("src_file", path),
    }
    actions[op]()


CORPUS = _cases("tmp")


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30
    assert {c.escape for c in CORPUS} == {"path", "final", ""}


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize("index", range(len(CORPUS)), ids=[repr(c.path) for c in CORPUS])
def test_no_path_reaches_outside_the_root(
    world: tuple[Workspace, Path, Path], tmp_path: Path, op: str, index: int
) -> None:
    ws, _root, outside = world
    case = _cases(str(tmp_path).lstrip("/"))[index]
    before = _tree_digest(outside)
    siblings = sorted(os.listdir(tmp_path))
    must_refuse = case.escape == "path" or (case.escape == "final" and op in FOLLOWING_OPS)
    if must_refuse:
        with pytest.raises(FileError) as excinfo:
            _run(ws, op, case.path)
        assert excinfo.value.reason == FileError.PERMISSION_DENIED, str(excinfo.value)
    else:
        try:
            _run(ws, op, case.path)
        except FileError as exc:
            assert exc.reason != FileError.PERMISSION_DENIED or case.escape, str(exc)
    assert _tree_digest(outside) == before
    assert sorted(os.listdir(tmp_path)) == siblings
    assert (outside / "file.txt").read_text() == "sentinel"


@pytest.mark.parametrize("case", [c for c in CORPUS if not c.escape], ids=repr)
def test_paths_that_stay_inside_are_written_inside(
    world: tuple[Workspace, Path, Path], case: Case
) -> None:
    ws, root, _ = world
    ws.write(case.path, b"inside")
    assert ws.read(case.path, 100) == b"inside"
    written = [p for p in root.rglob("*") if p.is_file() and p.read_bytes() == b"inside"]
    assert len(written) == 1


def _exchanger() -> Callable[[Path, Path], None]:
    """Atomically swap two directory entries (renameat2 RENAME_EXCHANGE), or skip the test."""
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        pytest.skip("renameat2 is not available")
    at_fdcwd, rename_exchange = -100, 2

    def exchange(a: Path, b: Path) -> None:
        libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)

    return exchange


def test_a_directory_swapped_for_an_escaping_symlink_never_lets_anything_out(
    world: tuple[Workspace, Path, Path],
) -> None:
    # "swap" flips atomically between a real directory and a symlink to the outside, so any
    # check-then-use gap is hit (a realpath() check followed by open() leaks within a few
    # hundred writes); fd-relative O_NOFOLLOW walks must not.
    ws, root, outside = world
    before = _tree_digest(outside)
    (root / "swap").mkdir()
    (root / "swap.link").symlink_to(outside)
    exchange = _exchanger()
    stop = threading.Event()

    def swapper() -> None:
        while not stop.is_set():
            exchange(root / "swap", root / "swap.link")

    ops: list[Callable[[int], object]] = [
        lambda i: ws.write(f"swap/f{i % 5}.txt", b"pwned"),
        lambda i: ws.mkdir(f"swap/d{i % 5}/x"),
        lambda i: ws.remove(f"swap/f{(i + 2) % 5}.txt"),
        lambda i: ws.move(f"swap/f{i % 5}.txt", f"swap/m{i}"),
        lambda i: ws.read("swap/sub/deep.txt", 100),
    ]
    thread = threading.Thread(target=swapper)
    thread.start()
    outcomes: set[str] = set()
    try:
        for i in range(2000):
            try:
                ops[i % len(ops)](i)
                outcomes.add("ok")
            except FileError as exc:
                outcomes.add(exc.reason)
    finally:
        stop.set()
        thread.join()
    assert _tree_digest(outside) == before
    assert "ok" in outcomes  # the race really ran both ways
    assert FileError.PERMISSION_DENIED in outcomes
