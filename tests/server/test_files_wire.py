"""The file services end to end on a real server: exact wire shapes, roles, cross-client events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from goval._proto.api_pb2 import (
    Command,
    File,
    FileEvent,
    FSSnapshot,
    OpenChannelRes,
    SubscribeFile,
)
from goval.identity import Role
from goval.testing import running_server
from tests.server.kit import raw_socket


async def test_example_3_a_read_error_and_a_missing_stat_on_the_wire(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs:
        async with raw_socket(rs.ws_url(rs.token())) as raw:
            opened = await raw.open("gcsfiles", ref="o1")
            channel = opened.openChanRes.id
            assert opened.openChanRes.state == OpenChannelRes.CREATED
            await raw.expect_silence(0.1)  # gcsfiles has no greeting
            reply = await raw.request(Command(channel=channel, ref="r1", read=File(path="nope.py")))
            assert (reply.channel, reply.session, reply.ref) == (channel, raw.session_id, "r1")
            assert reply.error == "open nope.py: no such file or directory"
            reply = await raw.request(Command(channel=channel, ref="r2", stat=File(path="nope.py")))
            assert reply.ref == "r2" and reply.WhichOneof("body") == "statRes"
            assert reply.statRes.exists is False


async def test_a_reader_on_gcsfiles_reads_but_every_mutation_is_denied(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    async with running_server(tmp_path) as rs, rs.client("rita", Role.READ) as client:
        channel = await client.open("gcsfiles")
        assert (await channel.request(Command(read=File(path="a.txt")))).file.content == b"a"
        reply = await channel.request(Command(write=File(path="a.txt", content=b"x")), check=False)
        assert reply.error == "permission denied: write"
        reply = await channel.request(Command(remove=File(path="a.txt")), check=False)
        assert reply.error == "permission denied: remove"
        files = await client.open("files")
        reply = await files.request(Command(mkdir=File(path="d")), check=False)
        assert reply.error == "permission denied: mkdir"
    assert (tmp_path / "a.txt").read_text() == "a" and not (tmp_path / "d").exists()


async def test_files_refuses_mutations_even_for_the_owner(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs, rs.client() as client:
        files = await client.open("files")
        reply = await files.request(Command(write=File(path="x", content=b"x")), check=False)
        assert reply.error == "permission denied: write"
        info = await files.request(Command(read=File(path=".config/goval/info")))
        document = json.loads(info.file.content)
        assert document["workspaceId"] == rs.server.keys.workspace_id
    assert not (tmp_path / "x").exists()


async def test_a_reader_may_not_open_snapshot(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as rs,
        raw_socket(rs.ws_url(rs.token("r", Role.READ))) as raw,
    ):
        reply = await raw.open("snapshot")
        assert reply.openChanRes.state == OpenChannelRes.ERROR
        assert reply.openChanRes.error == "permission denied: snapshot"


async def test_another_clients_writes_reach_a_subscriber_as_file_events(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as rs,
        rs.client("alice") as alice,
        rs.client("bob", Role.READ) as bob,
    ):
        events = await bob.open("fsevents")
        await events.request(Command(subscribeFile=SubscribeFile(files=[File(path=".")])))
        writer = await alice.open("gcsfiles")
        await writer.request(Command(write=File(path="new.txt", content=b"1")))
        event = await events.receive(5)
        assert event.fileEvent.op == FileEvent.Create and event.fileEvent.file.path == "new.txt"
        assert event.session == 0 and not event.ref
        await asyncio.sleep(0.2)
        await writer.request(Command(mkdir=File(path="dir")))
        event = await events.receive(5)
        assert (event.fileEvent.op, event.fileEvent.file.type) == (FileEvent.Create, File.DIRECTORY)


async def test_a_snapshot_over_the_wire_clears_check_changes(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    async with running_server(tmp_path) as rs, rs.client() as client:
        snapshot = await client.open("snapshot")
        changed = await snapshot.request(Command(checkChanges={}))  # type: ignore[arg-type]
        assert [f.path for f in changed.changedFiles.files] == ["a.txt"]
        assert (await snapshot.request(Command(fsSnapshot=FSSnapshot()))).WhichOneof("body") == "ok"
        changed = await snapshot.request(Command(checkChanges={}))  # type: ignore[arg-type]
        assert changed.WhichOneof("body") == "changedFiles" and not changed.changedFiles.files
