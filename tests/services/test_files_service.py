"""gcsfiles / files through the service harness: every request, reply and error text of §4.1."""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from goval._proto.api_pb2 import (
    CheckChanges,
    Command,
    File,
    FileAuthMethod,
    FileAuthReq,
    ListObjects,
    Move,
    SubscribeFile,
)
from goval.identity import Role
from goval.services.files import FilesService, GcsFilesService
from goval.testing import FakePeer, ServiceHarness


@pytest.fixture
async def gcs(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    harness = ServiceHarness(GcsFilesService, tmp_path)
    yield harness
    await harness.aclose()


async def ask(h: ServiceHarness, command: Command, role: Role = Role.OWNER) -> Command:
    peer: FakePeer = await h.attach(role=role)
    reply = await h.request(peer, command)
    assert reply is not None
    return reply


def f(path: str, content: bytes = b"") -> File:
    return File(path=path, content=content)


def make(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def body(reply: Command) -> str | None:
    return reply.WhichOneof("body")


async def test_write_then_read_round_trips_binary_content_byte_exact(
    gcs: ServiceHarness, tmp_path: Path
) -> None:
    blob = bytes(range(256)) * 64 + b"\xff\xfe\x00"
    assert body(await ask(gcs, Command(write=f("./bin//data.bin", blob)))) == "ok"
    assert (tmp_path / "bin" / "data.bin").read_bytes() == blob
    reply = await ask(gcs, Command(read=f("/bin/./data.bin")))
    assert reply.file.path == "bin/data.bin"  # the cleaned form is echoed
    assert reply.file.content == blob


async def test_write_keeps_the_mode_of_an_existing_file(
    gcs: ServiceHarness, tmp_path: Path
) -> None:
    script = tmp_path / "run.sh"
    script.write_text("old")
    script.chmod(0o751)
    await ask(gcs, Command(write=f("run.sh", b"new")))
    assert script.read_bytes() == b"new"
    assert script.stat().st_mode & 0o777 == 0o751


@pytest.mark.parametrize("kind", ["persist", "persistMirror"])
async def test_persist_writes_like_write(gcs: ServiceHarness, tmp_path: Path, kind: str) -> None:
    command = Command()
    getattr(command, kind).CopyFrom(f("deep/p.txt", b"durable"))
    reply = await ask(gcs, command)
    assert body(reply) == "ok"
    assert (tmp_path / "deep" / "p.txt").read_bytes() == b"durable"


async def test_read_errors_have_the_exact_go_texts(gcs: ServiceHarness, tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "plain").write_text("x")
    cases = {
        "nope.py": "open nope.py: no such file or directory",
        "dir": "read dir: is a directory",
        "plain/under": "open plain/under: not a directory",
        "../etc/passwd": "open ../etc/passwd: permission denied",
        "out/secret": "open out/secret: permission denied",
    }
    (tmp_path / "out").symlink_to(tmp_path.parent)
    for path, text in cases.items():
        assert (await ask(gcs, Command(read=f(path)))).error == text


async def test_reading_a_file_bigger_than_a_message_says_file_too_large(
    gcs: ServiceHarness, tmp_path: Path
) -> None:
    os.truncate(make(tmp_path / "huge.bin"), gcs.resources.max_message + 1)  # sparse
    reply = await ask(gcs, Command(read=f("huge.bin")))
    assert reply.error == "read huge.bin: file too large"


async def test_write_errors_name_the_path(gcs: ServiceHarness, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    (tmp_path / "dir").mkdir()
    assert (await ask(gcs, Command(write=f("plain/x", b"")))).error == (
        "open plain/x: not a directory"
    )
    assert (await ask(gcs, Command(write=f("dir", b"")))).error == "open dir: is a directory"
    assert (await ask(gcs, Command(write=f("a/../../x", b"")))).error == (
        "open a/../../x: permission denied"
    )


async def test_readdir_lists_children_by_name_sorted_with_types(
    gcs: ServiceHarness, tmp_path: Path
) -> None:
    for name in ("b.txt", "A.txt", "é.txt", "z"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link_dir").symlink_to("sub")
    (tmp_path / "broken").symlink_to("missing")
    reply = await ask(gcs, Command(readdir=f(".")))
    listed = [(e.path, e.type) for e in reply.files.files]
    assert listed == [
        ("A.txt", File.REGULAR),
        ("b.txt", File.REGULAR),
        ("broken", File.REGULAR),
        ("link_dir", File.DIRECTORY),
        ("sub", File.DIRECTORY),
        ("z", File.REGULAR),
        ("é.txt", File.REGULAR),
    ]  # .goval (the state dir) is never listed


async def test_readdir_of_an_empty_directory_is_an_empty_files_reply(
    gcs: ServiceHarness, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    reply = await ask(gcs, Command(readdir=f("empty")))
    assert body(reply) == "files" and list(reply.files.files) == []


async def test_readdir_errors(gcs: ServiceHarness, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    assert (await ask(gcs, Command(readdir=f("nope")))).error == (
        "open nope: no such file or directory"
    )
    assert (await ask(gcs, Command(readdir=f("plain")))).error == "open plain: not a directory"
    assert (await ask(gcs, Command(readdir=f(".goval")))).error == (
        "open .goval: no such file or directory"
    )


async def test_mkdir_creates_parents_and_accepts_an_existing_directory(
    gcs: ServiceHarness, tmp_path: Path
) -> None:
    assert body(await ask(gcs, Command(mkdir=f("x/y/z")))) == "ok"
    assert (tmp_path / "x" / "y" / "z").is_dir()
    assert body(await ask(gcs, Command(mkdir=f("x/y")))) == "ok"
    (tmp_path / "plain").write_text("x")
    assert (await ask(gcs, Command(mkdir=f("plain")))).error == "mkdir plain: not a directory"


async def test_remove_is_recursive_and_try_remove_tolerates_missing(
    gcs: ServiceHarness, tmp_path: Path
) -> None:
    (tmp_path / "tree" / "a" / "b").mkdir(parents=True)
    (tmp_path / "tree" / "a" / "b" / "f").write_text("x")
    assert body(await ask(gcs, Command(remove=f("tree")))) == "ok"
    assert not (tmp_path / "tree").exists()
    assert (await ask(gcs, Command(remove=f("tree")))).error == (
        "remove tree: no such file or directory"
    )
    assert body(await ask(gcs, Command(tryRemove=f("tree")))) == "ok"
    assert (await ask(gcs, Command(remove=f(".")))).error == "remove .: permission denied"
    assert (await ask(gcs, Command(tryRemove=f(".")))).error == "remove .: permission denied"


async def test_move_creates_parents_and_never_overwrites(
    gcs: ServiceHarness, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    moved = await ask(gcs, Command(move=Move(oldPath="a.txt", newPath="new/dir/a.txt")))
    assert body(moved) == "ok"
    assert (tmp_path / "new" / "dir" / "a.txt").read_text() == "a"
    exists = await ask(gcs, Command(move=Move(oldPath="b.txt", newPath="new/dir/a.txt")))
    assert exists.error == "rename b.txt new/dir/a.txt: file exists"
    assert (tmp_path / "b.txt").read_text() == "b"
    missing = await ask(gcs, Command(move=Move(oldPath="gone", newPath="x")))
    assert missing.error == "rename gone x: no such file or directory"
    escape = await ask(gcs, Command(move=Move(oldPath="b.txt", newPath="../b.txt")))
    assert escape.error == "rename b.txt ../b.txt: permission denied"


async def test_stat_reports_go_style_mode_and_seconds_or_exists_false(
    gcs: ServiceHarness, tmp_path: Path
) -> None:
    target = tmp_path / "s.txt"
    target.write_bytes(b"12345")
    target.chmod(0o644)
    os.utime(target, (1_600_000_000, 1_600_000_000))
    reply = await ask(gcs, Command(stat=f("s.txt")))
    result = reply.statRes
    assert (result.exists, result.type, result.size) == (True, File.REGULAR, 5)
    assert (result.fileMode, result.modTime) == ("-rw-r--r--", 1_600_000_000)
    directory = await ask(gcs, Command(stat=f(".")))
    assert directory.statRes.type == File.DIRECTORY
    assert directory.statRes.fileMode.startswith("d")
    missing = await ask(gcs, Command(stat=f("nope.py")))
    assert body(missing) == "statRes" and missing.statRes.exists is False


async def test_list_objects_lists_regular_files_by_prefix_recursively_sorted(
    gcs: ServiceHarness, tmp_path: Path
) -> None:
    for rel in ("src/b.py", "src/a.py", "src/deep/c.py", "srcx.txt", "other/d.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    reply = await ask(gcs, Command(listObjects=ListObjects(prefix="src/")))
    assert list(reply.listObjectsResp.objects) == ["src/a.py", "src/b.py", "src/deep/c.py"]
    none = await ask(gcs, Command(listObjects=ListObjects(prefix="zzz")))
    assert body(none) == "listObjectsResp" and list(none.listObjectsResp.objects) == []


async def test_reading_the_server_identity_returns_generated_json(
    gcs: ServiceHarness, tmp_path: Path
) -> None:
    reply = await ask(gcs, Command(read=f(".config/goval/info")))
    info = json.loads(reply.file.content)
    assert info["server"] == "goval" and info["protocol"] == "goval-2020"
    assert info["workspaceId"] == gcs.resources.workspace_id and info["version"]
    assert not (tmp_path / ".config").exists()  # generated, not a file on disk


async def test_file_auth_get_returns_a_signed_url_bound_to_the_cleaned_path(
    gcs: ServiceHarness,
) -> None:
    reply = await ask(
        gcs, Command(fileAuthReq=FileAuthReq(file=f("./dir/a b.txt"), method=FileAuthMethod.GET))
    )
    result = reply.fileAuthRes
    assert result.file.path == "dir/a b.txt" and result.method == FileAuthMethod.GET
    url = urllib.parse.urlsplit(result.url)
    assert url.path == "/fs/dir/a%20b.txt"
    query = dict(urllib.parse.parse_qsl(url.query))
    assert query["m"] == "GET" and int(query["e"]) == result.expire
    assert not result.error


async def test_file_auth_put_returns_put_delete_and_get_urls(gcs: ServiceHarness) -> None:
    reply = await ask(
        gcs, Command(fileAuthReq=FileAuthReq(file=f("up.bin"), method=FileAuthMethod.PUT))
    )
    multi = reply.mutliFileAuthRes
    parts = {"put": multi.put, "del": getattr(multi, "del"), "get": multi.get}
    methods = {name: FileAuthMethod.Name(part.method) for name, part in parts.items()}
    assert methods == {"put": "PUT", "del": "DELETE", "get": "GET"}
    for part in parts.values():
        assert f"m={FileAuthMethod.Name(part.method)}" in part.url


async def test_file_auth_of_an_escaping_path_fails_inside_the_reply(gcs: ServiceHarness) -> None:
    reply = await ask(
        gcs, Command(fileAuthReq=FileAuthReq(file=f("../x"), method=FileAuthMethod.GET))
    )
    assert reply.fileAuthRes.error == "open ../x: permission denied"
    assert reply.fileAuthRes.url == ""


MUTATIONS = [
    ("write", Command(write=File(path="w.txt", content=b"x"))),
    ("persist", Command(persist=File(path="w.txt", content=b"x"))),
    ("persistMirror", Command(persistMirror=File(path="w.txt", content=b"x"))),
    ("mkdir", Command(mkdir=File(path="d"))),
    ("remove", Command(remove=File(path="keep.txt"))),
    ("tryRemove", Command(tryRemove=File(path="keep.txt"))),
    ("move", Command(move=Move(oldPath="keep.txt", newPath="moved.txt"))),
]


@pytest.mark.parametrize(("field", "command"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
@pytest.mark.parametrize("service", ["files", "gcsfiles as reader"])
async def test_read_only_access_refuses_every_mutation_and_changes_nothing(
    tmp_path: Path, field: str, command: Command, service: str
) -> None:
    (tmp_path / "keep.txt").write_text("kept")
    cls, role = (FilesService, Role.OWNER) if service == "files" else (GcsFilesService, Role.READ)
    harness = ServiceHarness(cls, tmp_path)
    try:
        reply = await ask(harness, command, role=role)
        assert reply.error == f"permission denied: {field}"
        for method in (FileAuthMethod.PUT, FileAuthMethod.DELETE):  # mutations too
            auth = await ask(
                harness, Command(fileAuthReq=FileAuthReq(file=f("k"), method=method)), role
            )
            assert auth.error == "permission denied: fileAuthReq"
        get = await ask(
            harness, Command(fileAuthReq=FileAuthReq(file=f("k"), method=FileAuthMethod.GET)), role
        )
        assert get.fileAuthRes.url
        assert (await ask(harness, Command(read=f("keep.txt")), role)).file.content == b"kept"
    finally:
        await harness.aclose()
    assert sorted(os.listdir(tmp_path)) == [".goval", "keep.txt"]
    assert (tmp_path / "keep.txt").read_text() == "kept"


async def test_bodies_outside_the_table_are_unsupported(gcs: ServiceHarness) -> None:
    reply = await ask(gcs, Command(subscribeFile=SubscribeFile(files=[f("x")])))
    assert reply.error == "unsupported command subscribeFile on service gcsfiles"
    files = ServiceHarness(FilesService, gcs.resources.workspace_root)
    try:
        reply = await ask(files, Command(checkChanges=CheckChanges()))
        assert reply.error == "unsupported command checkChanges on service files"
    finally:
        await files.aclose()
