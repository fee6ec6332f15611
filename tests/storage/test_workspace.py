"""Workspace file operations on a real directory: results on disk and every §4.1 error text."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from goval.errors import FileError
from goval.storage import Entry, Workspace


@pytest.fixture
def ws(root: Path) -> Iterator[Workspace]:
    with Workspace(root, root / ".goval") as workspace:
        yield workspace


def error_text(excinfo: pytest.ExceptionInfo[FileError]) -> str:
    return str(excinfo.value)


# -- clean ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [
        ("", "."),
        (".", "."),
        ("/", "."),
        ("./", "."),
        ("a", "a"),
        ("./a", "a"),
        ("/a", "a"),
        ("//a//b/", "a/b"),
        ("a/./b", "a/b"),
        ("a/b/../c", "a/c"),
        ("/./a", "a"),
        ("a/..", "."),
        ("%2e%2e/x", "%2e%2e/x"),
    ],
)
def test_paths_are_cleaned_to_the_workspace_relative_form(
    ws: Workspace, given: str, cleaned: str
) -> None:
    assert ws.clean(given) == cleaned


# -- read -------------------------------------------------------------------------------------


def test_read_returns_the_bytes_on_disk(ws: Workspace, root: Path) -> None:
    (root / "a.bin").write_bytes(b"\x00\xff hello")
    assert ws.read("./a.bin", 1024) == b"\x00\xff hello"


def test_read_of_a_missing_file_says_open_no_such_file(ws: Workspace) -> None:
    with pytest.raises(FileError) as excinfo:
        ws.read("nope.py", 10)
    assert error_text(excinfo) == "open nope.py: no such file or directory"


def test_read_of_a_directory_says_is_a_directory(ws: Workspace, root: Path) -> None:
    (root / "d").mkdir()
    with pytest.raises(FileError) as excinfo:
        ws.read("/d/", 10)
    assert error_text(excinfo) == "read d: is a directory"


def test_read_over_the_limit_says_file_too_large(ws: Workspace, root: Path) -> None:
    (root / "big").write_bytes(b"x" * 11)
    assert ws.read("big", 11) == b"x" * 11
    with pytest.raises(FileError) as excinfo:
        ws.read("big", 10)
    assert error_text(excinfo) == "read big: file too large"


def test_read_through_a_file_component_says_not_a_directory(ws: Workspace, root: Path) -> None:
    (root / "f").write_text("x")
    with pytest.raises(FileError) as excinfo:
        ws.read("f/x", 10)
    assert error_text(excinfo) == "open f/x: not a directory"


def test_read_of_a_fifo_is_refused_instead_of_blocking(ws: Workspace, root: Path) -> None:
    os.mkfifo(root / "pipe")
    with pytest.raises(FileError) as excinfo:
        ws.read("pipe", 10)
    assert error_text(excinfo) == "read pipe: permission denied"


def test_read_follows_a_symlink_inside_the_workspace(ws: Workspace, root: Path) -> None:
    (root / "d").mkdir()
    (root / "d" / "t.txt").write_text("target")
    (root / "link").symlink_to("d/t.txt")
    (root / "d" / "up").symlink_to("../link")
    assert ws.read("link", 100) == b"target"
    assert ws.read("d/up", 100) == b"target"


def test_streaming_read_yields_the_file_and_its_size(ws: Workspace, root: Path) -> None:
    (root / "s").write_bytes(b"abc" * 1000)
    with ws.open_for_streaming_read("s") as f:
        assert os.fstat(f.fileno()).st_size == 3000
        assert f.read() == b"abc" * 1000
    with pytest.raises(FileError, match=r"^open t: no such file or directory$"):
        ws.open_for_streaming_read("t")


# -- readdir ----------------------------------------------------------------------------------


def test_readdir_lists_children_sorted_by_code_point_with_types(ws: Workspace, root: Path) -> None:
    (root / "b").write_text("")
    (root / "B").mkdir()
    (root / "é").write_text("")
    (root / "a").mkdir()
    (root / "dirlink").symlink_to("a")
    (root / "broken").symlink_to("missing")
    (root / "outside").symlink_to("/")
    assert ws.readdir(".") == [
        Entry("B", True),
        Entry("a", True),
        Entry("b", False),
        Entry("broken", False),
        Entry("dirlink", True),
        Entry("outside", False),
        Entry("é", False),
    ]


def test_readdir_never_shows_the_state_directory(ws: Workspace, root: Path) -> None:
    (root / ".goval").mkdir()
    (root / "x").write_text("")
    assert [e.name for e in ws.readdir("")] == ["x"]


def test_readdir_errors_name_open(ws: Workspace, root: Path) -> None:
    (root / "f").write_text("")
    with pytest.raises(FileError, match=r"^open nope: no such file or directory$"):
        ws.readdir("nope")
    with pytest.raises(FileError, match=r"^open f: not a directory$"):
        ws.readdir("f")


# -- write ------------------------------------------------------------------------------------


@pytest.mark.parametrize("durable", [False, True])
def test_write_creates_parents_and_replaces_content(
    ws: Workspace, root: Path, durable: bool
) -> None:
    ws.write("a/b/c.txt", b"one", durable=durable)
    ws.write("a/b/c.txt", b"two", durable=durable)
    assert (root / "a/b/c.txt").read_bytes() == b"two"
    assert sorted(p.name for p in (root / "a/b").iterdir()) == ["c.txt"]  # no temp left over


def test_write_keeps_the_mode_of_an_existing_file(ws: Workspace, root: Path) -> None:
    script = root / "run.sh"
    script.write_text("old")
    script.chmod(0o751)
    ws.write("run.sh", b"new")
    assert stat.S_IMODE(script.stat().st_mode) == 0o751
    assert script.read_bytes() == b"new"


def test_write_new_file_gets_the_umask_default_mode(ws: Workspace, root: Path) -> None:
    umask = os.umask(0o022)
    try:
        ws.write("new", b"")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((root / "new").stat().st_mode) == 0o644


def test_write_through_a_symlink_writes_its_target(ws: Workspace, root: Path) -> None:
    (root / "real.txt").write_text("old")
    (root / "alias").symlink_to("real.txt")
    ws.write("alias", b"new")
    assert (root / "alias").is_symlink()
    assert (root / "real.txt").read_bytes() == b"new"


def test_write_errors_name_open(ws: Workspace, root: Path) -> None:
    (root / "d").mkdir()
    (root / "f").write_text("keep")
    with pytest.raises(FileError, match=r"^open d: is a directory$"):
        ws.write("d", b"x")
    with pytest.raises(FileError, match=r"^open f/x: not a directory$"):
        ws.write("f/x", b"x")
    with pytest.raises(FileError, match=r"^open \.: is a directory$"):
        ws.write("/", b"x")
    assert (root / "f").read_text() == "keep"


def test_atomic_writer_replaces_only_on_success(ws: Workspace, root: Path) -> None:
    (root / "up").write_bytes(b"old")
    with pytest.raises(RuntimeError), ws.atomic_writer("up") as f:
        f.write(b"partial")
        raise RuntimeError("upload broke")
    assert (root / "up").read_bytes() == b"old"
    assert os.listdir(root) == ["up"]
    with ws.atomic_writer("up") as f:
        for _ in range(4):
            f.write(b"chunk")
    assert (root / "up").read_bytes() == b"chunk" * 4


# -- mkdir ------------------------------------------------------------------------------------


def test_mkdir_creates_parents_and_accepts_an_existing_directory(ws: Workspace, root: Path) -> None:
    ws.mkdir("x/y/z")
    ws.mkdir("x/y")
    ws.mkdir(".")
    assert (root / "x/y/z").is_dir()


def test_mkdir_over_a_file_says_not_a_directory(ws: Workspace, root: Path) -> None:
    (root / "f").write_text("")
    with pytest.raises(FileError, match=r"^mkdir f: not a directory$"):
        ws.mkdir("f")
    with pytest.raises(FileError, match=r"^mkdir f/sub: not a directory$"):
        ws.mkdir("f/sub")


# -- remove -----------------------------------------------------------------------------------


def test_remove_deletes_files_and_whole_trees(ws: Workspace, root: Path) -> None:
    (root / "t/u").mkdir(parents=True)
    (root / "t/u/f").write_text("")
    (root / "g").write_text("")
    ws.remove("t")
    ws.remove("g")
    assert os.listdir(root) == []


def test_remove_of_a_symlink_keeps_its_target(ws: Workspace, root: Path) -> None:
    (root / "d").mkdir()
    (root / "d/f").write_text("keep")
    (root / "l").symlink_to("d")
    ws.remove("l")
    assert (root / "d/f").read_text() == "keep"
    assert not (root / "l").exists()


def test_remove_errors(ws: Workspace, root: Path) -> None:
    with pytest.raises(FileError, match=r"^remove gone: no such file or directory$"):
        ws.remove("gone")
    for root_path in (".", "", "/", "a/.."):
        with pytest.raises(FileError, match=r"^remove \.: permission denied$"):
            ws.remove(root_path)


# -- move -------------------------------------------------------------------------------------


def test_move_renames_and_creates_parents(ws: Workspace, root: Path) -> None:
    (root / "a").write_text("A")
    ws.move("a", "deep/er/b")
    assert (root / "deep/er/b").read_text() == "A"
    assert not (root / "a").exists()


def test_move_never_overwrites(ws: Workspace, root: Path) -> None:
    (root / "a").write_text("A")
    (root / "b").write_text("B")
    with pytest.raises(FileError) as excinfo:
        ws.move("./a", "/b")
    assert error_text(excinfo) == "rename a b: file exists"
    assert (root / "b").read_text() == "B"
    (root / "dangling").symlink_to("nowhere")
    with pytest.raises(FileError, match=r"^rename a dangling: file exists$"):
        ws.move("a", "dangling")


def test_move_errors(ws: Workspace, root: Path) -> None:
    (root / "d").mkdir()
    with pytest.raises(FileError, match=r"^rename x y: no such file or directory$"):
        ws.move("x", "y")
    assert not (root / "y").exists()
    with pytest.raises(FileError, match=r"^rename \. y: permission denied$"):
        ws.move(".", "y")
    with pytest.raises(FileError, match=r"^rename d d/inner: permission denied$"):
        ws.move("d", "d/inner")
    assert (root / "d").is_dir()


# -- stat -------------------------------------------------------------------------------------


def test_stat_reports_go_style_mode_size_and_seconds(ws: Workspace, root: Path) -> None:
    f = root / "f.txt"
    f.write_bytes(b"12345")
    f.chmod(0o644)
    os.utime(f, (1_600_000_000.7, 1_600_000_000.7))
    (root / "d").mkdir()
    (root / "d").chmod(0o755)
    info = ws.stat("f.txt")
    assert (info.exists, info.is_dir, info.size, info.file_mode, info.mod_time) == (
        True,
        False,
        5,
        "-rw-r--r--",
        1_600_000_000,
    )
    assert ws.stat("d").file_mode == "drwxr-xr-x"
    assert ws.stat("d").is_dir
    assert ws.stat(".").is_dir


def test_stat_of_missing_paths_is_not_an_error(ws: Workspace, root: Path) -> None:
    (root / "f").write_text("")
    (root / "broken").symlink_to("nowhere")
    for path in ("nope.py", "f/under", "broken", ".goval", ".goval/x"):
        assert not ws.stat(path).exists


# -- list_objects and the state directory -----------------------------------------------------


def test_list_objects_lists_regular_files_by_prefix(ws: Workspace, root: Path) -> None:
    for rel in ("src/main.py", "src/util/x.py", "srcx", "other/y", ".goval/db"):
        ws_path = root / rel
        ws_path.parent.mkdir(parents=True, exist_ok=True)
        ws_path.write_text("")
    (root / "src/link").symlink_to("main.py")
    assert ws.list_objects("") == ["other/y", "src/main.py", "src/util/x.py", "srcx"]
    assert ws.list_objects("src/") == ["src/main.py", "src/util/x.py"]
    assert ws.list_objects("/src/ma") == ["src/main.py"]
    assert ws.list_objects("zzz") == []


def test_the_state_directory_is_unreachable(ws: Workspace, root: Path) -> None:
    (root / ".goval").mkdir()
    (root / ".goval/secret").write_text("s")
    (root / "peek").symlink_to(".goval/secret")
    with pytest.raises(FileError, match=r"^open \.goval/secret: no such file or directory$"):
        ws.read(".goval/secret", 10)
    with pytest.raises(FileError, match=r"^open peek: no such file or directory$"):
        ws.read("peek", 10)
    with pytest.raises(FileError, match=r"permission denied$"):
        ws.write(".goval/secret", b"x")
    with pytest.raises(FileError, match=r"permission denied$"):
        ws.remove(".goval")
    with pytest.raises(FileError, match=r"permission denied$"):
        ws.move(".goval", "stolen")
    assert (root / ".goval/secret").read_text() == "s"
    assert ws.is_hidden(".goval/x")
    assert ws.relative(root / ".goval/db") is None
    assert ws.relative(root / "a/b") == "a/b"
    assert ws.relative(root.parent / "x") is None
    assert ws.absolute("/a/./b") == root.resolve() / "a/b"


def test_removing_an_ancestor_of_a_nested_state_directory_is_refused(root: Path) -> None:
    (root / "var/state").mkdir(parents=True)
    with Workspace(root, root / "var/state") as ws:
        with pytest.raises(FileError, match=r"^remove var: permission denied$"):
            ws.remove("var")
        with pytest.raises(FileError, match=r"^rename var v2: permission denied$"):
            ws.move("var", "v2")
    assert (root / "var/state").is_dir()


def test_move_under_a_file_says_not_a_directory(ws: Workspace, root: Path) -> None:
    (root / "a").write_text("A")
    (root / "f").write_text("F")
    with pytest.raises(FileError, match=r"^rename a f/x: not a directory$"):
        ws.move("a", "f/x")
    assert (root / "a").read_text() == "A"


def test_move_without_renameat2_still_never_overwrites(
    ws: Workspace, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goval.storage import renaming

    monkeypatch.setattr(renaming, "_renameat2", None)  # take the portable fallback branch
    (root / "a").write_text("A")
    (root / "b").write_text("B")
    with pytest.raises(FileError, match=r"^rename a b: file exists$"):
        ws.move("a", "b")
    ws.move("a", "c/d")
    assert (root / "c/d").read_text() == "A"
    assert (root / "b").read_text() == "B"


def test_a_nested_state_directory_is_missing_from_its_parent_listing(root: Path) -> None:
    (root / "var/state").mkdir(parents=True)
    (root / "var/log").mkdir()
    with Workspace(root, root / "var/state") as ws:
        assert ws.readdir("var") == [Entry("log", True)]
        assert ws.list_objects("") == []
        assert not ws.stat("var/state").exists


def test_a_state_directory_outside_the_root_hides_nothing(root: Path, tmp_path: Path) -> None:
    (root / ".goval").mkdir()
    with Workspace(root, tmp_path / "elsewhere") as ws:
        assert ws.readdir(".") == [Entry(".goval", True)]


def test_atomic_writer_onto_a_directory_fails_before_writing(ws: Workspace, root: Path) -> None:
    (root / "d").mkdir()
    with pytest.raises(FileError, match=r"^open d: is a directory$"), ws.atomic_writer("d"):
        pass
    assert os.listdir(root / "d") == []
