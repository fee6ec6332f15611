"""Path-escape corpus through the wire: gcsfiles requests and signed URLs never reach outside.

Every case is sent as every gcsfiles operation (and, where a URL gets signed, as GET, PUT and
DELETE on that URL) by a real client to a real server. Each must be refused with ``permission
denied`` (URLs: 403/404), and a sentinel tree beside the workspace must hash the same after.
Ends with a race: a directory flipped to an escaping symlink while writes go through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import yarl

from goval._proto.api_pb2 import Command, File, FileAuthMethod, FileAuthReq, Move
from goval.client import Channel
from goval.testing import running_server

DIR_ESCAPES = [
    "..",
    "../x",
    "a/../../x",
    "../outside/file.txt",
    "./../outside/new",
    "/../outside/file.txt",
    "//..//outside",
    "a/b/../../../outside/new",
    "a/./../../outside",
    "to_sibling/../../x",
    "a\x00b",
    "\x00",
    "ok/\x00/../x",
    "..\x00/x",
    "to_sibling/new",
    "to_sibling/file.txt",
    "to_sibling//file.txt",
    "./to_sibling/./new",
    "to_sibling/sub/deeper",
    "to_sibling_abs/new",
    "to_sibling_abs/file.txt",
    "chain1/new",
    "chain1/file.txt",
    "mid/esc/new",
    "mid/esc/sub/deeper",
    "mid/../to_sibling/x",
    "a/../to_sibling/file.txt",
    "dotdot_link/outside/new",
    "dotdot_link/outside/file.txt",
    "deep/up/outside/file.txt",
    "ROOT_LINK",  # to_root/<absolute path of outside>/file.txt, filled in per test
]
FINAL_ESCAPES = ["to_sibling", "to_sibling_abs", "chain1", "to_file", "dotdot_link", "to_root"]
FOLLOWING_OPS = ("read", "write", "persist", "mkdir", "readdir", "stat")
ALL_OPS = (*FOLLOWING_OPS, "remove", "tryRemove", "move_from", "move_to")


@dataclass
class Tree:
    root: Path
    outside: Path

    def digest(self) -> str:
        """Names, types, modes and contents of everything beside the workspace."""
        h = hashlib.sha256()
        for path in sorted(self.outside.parent.rglob("*")):
            if path.is_relative_to(self.root):
                continue
            st = path.lstat()
            h.update(f"{path}|{st.st_mode}|{st.st_size}\n".encode())
            if path.is_file() and not path.is_symlink():
                h.update(path.read_bytes())
        return h.hexdigest()


def build(tmp: Path) -> Tree:
    root, outside = tmp / "root", tmp / "outside"
    (outside / "sub" / "deeper").mkdir(parents=True)
    (outside / "file.txt").write_text("secret")
    (outside / "sub" / "deeper" / "f").write_text("deep")
    (tmp / "sibling-file").write_text("beside")
    (root / "a" / "b").mkdir(parents=True)
    (root / "mid").mkdir()
    (root / "deep" / "down").mkdir(parents=True)
    (root / "inside.txt").write_text("in")
    (root / "to_sibling").symlink_to("../outside")
    (root / "to_sibling_abs").symlink_to(outside)
    (root / "chain2").symlink_to("../outside")
    (root / "chain1").symlink_to("chain2")
    (root / "mid" / "esc").symlink_to("../../outside")
    (root / "dotdot_link").symlink_to("..")
    (root / "deep" / "up").symlink_to("../..")
    (root / "to_file").symlink_to("../outside/file.txt")
    (root / "to_root").symlink_to("/")
    return Tree(root, outside)


def command(op: str, path: str) -> Command:
    cmd = Command()
    if op in ("write", "persist"):
        getattr(cmd, op).CopyFrom(File(path=path, content=b"pwned"))
    elif op == "move_from":
        cmd.move.CopyFrom(Move(oldPath=path, newPath="landed.txt"))
    elif op == "move_to":
        cmd.move.CopyFrom(Move(oldPath="inside.txt", newPath=path))
    else:
        getattr(cmd, op).CopyFrom(File(path=path))
    return cmd


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Tree, Channel, str]]:
    tree = build(tmp_path)
    async with running_server(tree.root) as rs, rs.client() as client:
        channel = await client.open("gcsfiles")
        yield tree, channel, rs.url


async def refuse_everywhere(
    channel: Channel, base: str, path: str, ops: tuple[str, ...]
) -> list[str]:
    """Send every op; return the problems (anything not refused)."""
    problems = []
    for op in ops:
        reply = await channel.request(command(op, path), check=False)
        if not reply.error.endswith(": permission denied"):
            problems.append(f"{op} {path!r}: {reply}")
    problems += await refuse_urls(channel, base, path, ops == ALL_OPS)
    return problems


async def refuse_urls(channel: Channel, base: str, path: str, mutations: bool) -> list[str]:
    problems = []
    methods = [FileAuthMethod.GET, FileAuthMethod.HEAD]
    methods += [FileAuthMethod.PUT, FileAuthMethod.DELETE] if mutations else []
    async with aiohttp.ClientSession() as http:
        for method in methods:
            reply = await channel.request(
                Command(fileAuthReq=FileAuthReq(file=File(path=path), method=method))
            )
            auth = reply.fileAuthRes if method != FileAuthMethod.PUT else reply.mutliFileAuthRes.put
            if not auth.url:
                continue  # refused while signing: fine
            name = FileAuthMethod.Name(method)
            async with http.request(name, auth.url, data=b"pwned") as response:
                if response.status not in (403, 404):
                    problems.append(f"{name} URL for {path!r} answered {response.status}")
    return problems


@pytest.mark.parametrize("path", DIR_ESCAPES, ids=repr)
async def test_an_escaping_path_is_refused_by_every_operation_and_nothing_outside_changes(
    setup: tuple[Tree, Channel, str], path: str
) -> None:
    tree, channel, base = setup
    if path == "ROOT_LINK":
        path = f"to_root{tree.outside}/file.txt"
    before = tree.digest()
    problems = await refuse_everywhere(channel, base, path, ALL_OPS)
    assert problems == []
    assert tree.digest() == before
    assert (tree.root / "inside.txt").read_text() == "in"


@pytest.mark.parametrize("path", FINAL_ESCAPES)
async def test_a_final_symlink_out_is_refused_by_every_operation_that_follows_it(
    setup: tuple[Tree, Channel, str], path: str
) -> None:
    tree, channel, base = setup
    before = tree.digest()
    problems = await refuse_everywhere(channel, base, path, FOLLOWING_OPS)
    assert problems == []
    assert tree.digest() == before


async def test_an_encoded_traversal_in_a_file_url_is_forbidden(
    setup: tuple[Tree, Channel, str],
) -> None:
    tree, channel, base = setup
    before = tree.digest()
    reply = await channel.request(
        Command(fileAuthReq=FileAuthReq(file=File(path="inside.txt"), method=FileAuthMethod.PUT))
    )
    query = reply.mutliFileAuthRes.put.url.split("?", 1)[1]
    async with aiohttp.ClientSession() as http:
        for raw in ("%2e%2e/outside/file.txt", "..%2foutside%2ffile.txt", "%2E%2E%2Foutside"):
            url = yarl.URL(f"{base}/fs/{raw}?{query}", encoded=True)  # sent exactly as is
            async with http.put(url, data=b"pwned") as response:
                assert response.status == 403
    assert tree.digest() == before


@contextlib.contextmanager
def flipping(link: Path, inside: Path, outside: Path) -> Iterator[list[int]]:
    """Atomically re-point symlink ``link`` between ``inside`` and ``outside``, non-stop."""
    stop = threading.Event()
    flips = [0]
    spare = link.with_name(link.name + ".spare")
    os.symlink(inside, link)

    def flip() -> None:
        while not stop.is_set():
            for target in (outside, inside):
                os.symlink(target, spare)
                os.replace(spare, link)  # the name always exists; only its target changes
                flips[0] += 1

    thread = threading.Thread(target=flip, daemon=True)
    thread.start()
    try:
        yield flips
    finally:
        stop.set()
        thread.join(5)


async def test_a_symlink_re_pointed_outside_mid_request_never_leaks(
    setup: tuple[Tree, Channel, str],
) -> None:
    tree, channel, _ = setup
    (tree.root / "real").mkdir()
    before = tree.digest()
    outcomes: set[str] = set()
    with flipping(tree.root / "flip", tree.root / "real", tree.outside) as flips:
        for i in range(150):
            for op in ("write", "read", "mkdir", "remove", "readdir"):
                path = f"flip/x{i % 3}.txt" if op != "mkdir" else f"flip/d{i % 3}"
                reply = await channel.request(command(op, path), check=False)
                outcomes.add(reply.error.split(": ", 1)[-1] if reply.error else "ok")
            await asyncio.sleep(0)
    assert flips[0] > 100
    assert tree.digest() == before
    assert not any(name.startswith(("x", "d")) for name in os.listdir(tree.outside))
    assert {"ok", "permission denied"} <= outcomes  # both sides of the race were hit
    assert outcomes <= {
        "ok",
        "permission denied",
        "no such file or directory",
        "not a directory",
        "is a directory",
    }
