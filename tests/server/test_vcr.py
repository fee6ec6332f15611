"""startVCR / readVCR on channel 0 (protocol.md §2.7): both directions, VCR traffic left out."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from goval._proto.api_pb2 import ChatMessage, Command, VCREntry
from goval.identity import Role
from goval.testing import running_server


def vcr(name: str) -> Command:
    command = Command()
    getattr(command, name).SetInParent()
    return command


def bodies(log: list[VCREntry]) -> list[tuple[int, str]]:
    return [(entry.direction, entry.command.WhichOneof("body") or "") for entry in log]


async def test_a_recording_holds_the_session_traffic_both_ways_with_timestamps(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path) as rs, rs.client("alice", Role.WRITE) as client:
        await client.ping()  # before the recording: not in it
        assert (await client.request(vcr("startVCR"))).WhichOneof("body") == "ok"
        await client.ping()
        chat = await client.open("chat", "chat")
        await chat.request(Command(chatMessage=ChatMessage(text="hi")))
        reply = await client.request(vcr("readVCR"))

    log = list(reply.VCRLog.log)
    assert bodies(log) == [
        (VCREntry.IN, "ping"),
        (VCREntry.OUT, "pong"),
        (VCREntry.IN, "openChan"),
        (VCREntry.OUT, "openChanRes"),
        (VCREntry.IN, "chatMessage"),
        (VCREntry.OUT, "ok"),
    ]
    assert {entry.uid for entry in log} == {str(client.session_id)}
    assert log[-1].command.ref == log[-2].command.ref
    stamps = [entry.timestamp for entry in log]
    assert stamps == sorted(stamps) and stamps[0] > 1_600_000_000_000  # Unix milliseconds
    logfile = Path(reply.VCRLog.logfile.path)
    assert logfile.is_relative_to(rs.server.resources.state_dir)
    text = await asyncio.to_thread(logfile.read_text)
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["command"].get("ping") is not None for line in lines][:1] == [True]
    assert len(lines) == len(log)


async def test_a_writer_reads_only_its_own_recording_and_the_owner_reads_all() -> None:
    async with running_server() as rs:
        async with (
            rs.client("w1", Role.WRITE, user_id=2) as w1,
            rs.client("w2", Role.WRITE, user_id=3) as w2,
        ):
            for client in (w1, w2):
                await client.request(vcr("startVCR"))
                await client.ping()
            own = await w1.request(vcr("readVCR"))
            assert {entry.uid for entry in own.VCRLog.log} == {str(w1.session_id)}
            async with rs.client("boss", Role.OWNER) as owner:
                everything = await owner.request(vcr("readVCR"))
            assert {entry.uid for entry in everything.VCRLog.log} == {
                str(w1.session_id),
                str(w2.session_id),
            }


async def test_without_start_vcr_nothing_is_recorded() -> None:
    async with running_server() as rs, rs.client("alice", Role.READ) as client:
        await client.ping()
        reply = await client.request(vcr("readVCR"))
        assert list(reply.VCRLog.log) == []
        assert rs.server.router.sessions[client.session_id].recorder is None
