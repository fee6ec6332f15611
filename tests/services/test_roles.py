"""docs/roles.md, row by row: what read, write and owner may open and send (protocol.md §3.3).

A refused open is ``permission denied: <service>``; a refused command is ``permission denied:
<field>`` and changes nothing (file mutations are checked against the tree on disk). Rows for
services that do not exist yet are added by the people building them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from goval._proto.api_pb2 import (
    ChatMessage,
    CloseChannel,
    CloseChannelRes,
    Command,
    File,
    FileAuthMethod,
    FileAuthReq,
    Move,
    Pid1Config,
)
from goval.client import ChannelOpenError, ServerError
from goval.identity import Role
from goval.testing import running_server

READ, WRITE, OWNER = Role.READ, Role.WRITE, Role.OWNER

# (services, the weakest role that may open them): the "Opening a channel" table.
OPEN_ROWS = [
    (("gcsfiles", "files", "fsevents"), READ),
    (("presence", "chat"), READ),
    (("null",), READ),
    (("exec", "shell", "shellrun2", "run", "interp2", "eval"), WRITE),
    (("snapshot", "meta"), WRITE),
    (("metrics", "pprof"), OWNER),
]


@pytest.mark.parametrize(("services", "weakest"), OPEN_ROWS, ids=[row[0][0] for row in OPEN_ROWS])
async def test_each_role_may_open_exactly_the_services_of_its_row(
    services: tuple[str, ...], weakest: Role
) -> None:
    async with running_server() as rs:
        for role in Role:
            async with rs.client(role.wire_name, role) as client:
                for service in services:
                    if role >= weakest:
                        channel = await client.open(service)
                        await channel.aclose()
                    else:
                        with pytest.raises(
                            ChannelOpenError, match=f"^permission denied: {service}$"
                        ):
                            await client.open(service)


def mutation(body: str) -> Command:
    command = Command()
    match body:
        case "write" | "persist" | "persistMirror":
            getattr(command, body).CopyFrom(File(path="a.txt", content=b"changed"))
        case "mkdir":
            command.mkdir.path = "newdir"
        case "remove" | "tryRemove":
            getattr(command, body).path = "a.txt"
        case "move":
            command.move.CopyFrom(Move(oldPath="a.txt", newPath="b.txt"))
    return command


MUTATIONS = ["write", "mkdir", "remove", "tryRemove", "move", "persist", "persistMirror"]


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(root.rglob("*"))
        if ".goval" not in p.parts
    }


@pytest.mark.parametrize(
    ("service", "role", "allowed"),
    [("gcsfiles", READ, False), ("gcsfiles", WRITE, True), ("files", OWNER, False)],
)
async def test_file_mutations_per_role_and_a_refusal_changes_nothing(
    tmp_path: Path, service: str, role: Role, allowed: bool
) -> None:
    for body in MUTATIONS:
        (tmp_path / "a.txt").write_bytes(b"original")
        for leftover in ("b.txt", "newdir"):
            path = tmp_path / leftover
            path.unlink() if path.is_file() else path.rmdir() if path.is_dir() else None
        before = tree(tmp_path)
        async with running_server(tmp_path) as rs, rs.client("u", role) as client:
            channel = await client.open(service)
            reply = await channel.request(mutation(body), check=False)
        if allowed:
            assert reply.WhichOneof("body") == "ok", (body, reply)
            assert tree(tmp_path) != before, body
        else:
            assert reply.error == f"permission denied: {body}"
            assert tree(tmp_path) == before, body


@pytest.mark.parametrize(("role", "allowed"), [(READ, False), (WRITE, True)])
async def test_signed_upload_and_delete_urls_need_write(role: Role, allowed: bool) -> None:
    async with running_server() as rs, rs.client("u", role) as client:
        channel = await client.open("gcsfiles")
        for method in (FileAuthMethod.PUT, FileAuthMethod.DELETE):
            request = FileAuthReq(file=File(path="x.txt"), method=method)
            reply = await channel.request(Command(fileAuthReq=request), check=False)
            assert (reply.error == "permission denied: fileAuthReq") is not allowed
        get = FileAuthReq(file=File(path="x.txt"), method=FileAuthMethod.GET)
        assert (await channel.request(Command(fileAuthReq=get))).WhichOneof("body") == "fileAuthRes"


async def test_a_read_only_guest_may_read_files_watch_presence_and_chat() -> None:
    async with running_server() as rs, rs.client("guest", READ) as guest:
        files = await guest.open("gcsfiles")
        assert (await files.request(Command(readdir=File(path=".")))).WhichOneof("body") == "files"
        presence = await guest.open("presence", "presence")
        assert (await presence.receive(timeout=5)).WhichOneof("body") == "roster"
        chat = await guest.open("chat", "chat")
        reply = await chat.request(Command(chatMessage=ChatMessage(text="hello")))
        assert reply.WhichOneof("body") == "ok"


@pytest.mark.parametrize(("role", "allowed"), [(READ, False), (WRITE, False), (OWNER, True)])
async def test_pid1_config_is_for_the_owner_only(role: Role, allowed: bool) -> None:
    async with running_server() as rs, rs.client("u", role) as client:
        request = Command(pid1Config=Pid1Config(cwd="sub", language="python3", env={"A": "1"}))
        defaults = rs.server.resources.process_defaults
        if allowed:
            await client.request(request)
            assert (defaults.cwd, defaults.language, defaults.env) == ("sub", "python3", {"A": "1"})
        else:
            with pytest.raises(ServerError, match="^permission denied: pid1Config$"):
                await client.request(request)
            assert (defaults.cwd, defaults.language, defaults.env) == ("", "", {})


@pytest.mark.parametrize(("role", "expected"), [(READ, False), (WRITE, True), (OWNER, True)])
async def test_has_cap_answers_by_role(role: Role, expected: bool) -> None:
    async with running_server() as rs, rs.client("u", role) as client:
        assert (await client.request(Command(hasCap=not expected))).hasCap is expected


@pytest.mark.parametrize(("role", "sees_others"), [(READ, False), (WRITE, False), (OWNER, True)])
async def test_read_vcr_shows_other_sessions_only_to_the_owner(
    role: Role, sees_others: bool
) -> None:
    start, read = Command(), Command()
    start.startVCR.SetInParent()
    read.readVCR.SetInParent()
    async with (
        running_server() as rs,
        rs.client("other", WRITE) as other,
        rs.client("u", role) as client,
    ):
        await other.request(start)
        await other.ping()
        await client.request(start)
        await client.ping()
        uids = {entry.uid for entry in (await client.request(read)).VCRLog.log}
        assert str(client.session_id) in uids
        assert (str(other.session_id) in uids) is sees_others


@pytest.mark.parametrize(("role", "destroys"), [(READ, False), (WRITE, True)])
async def test_close_by_a_reader_only_detaches_it(role: Role, destroys: bool) -> None:
    async with (
        running_server() as rs,
        rs.client("a", OWNER) as keeper,
        rs.client("u", role) as client,
    ):
        await keeper.open("chat", "chat")
        channel = await client.open("chat", "chat")
        reply = await client.close_channel(channel, action=CloseChannel.CLOSE)
        expected = CloseChannelRes.CLOSE if destroys else CloseChannelRes.DISCONNECT
        assert reply.closeChanRes.status == expected
        await asyncio.sleep(0)
        assert bool(rs.server.router.live) is not destroys
