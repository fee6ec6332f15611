"""protocol.md §5.11 Example 6 on the wire, field by field, with two raw sessions."""

from __future__ import annotations

import time
from pathlib import Path

from google.protobuf import json_format

from goval._proto.api_pb2 import Command, OpenChannelRes
from goval.testing import running_server
from tests.server.kit import RawSocket, raw_socket


def fields(command: Command) -> dict[str, object]:
    """The command as a dict, ``committed`` checked (recent, set) and then dropped."""
    data = json_format.MessageToDict(command)
    packet = data.get("ot")
    if isinstance(packet, dict) and "committed" in packet:
        committed = command.ot.committed
        assert abs(committed.seconds + committed.nanos / 1e9 - time.time()) < 30
        del packet["committed"]
    return data


def ot_request(ref: str, channel: int, spooky: int, version: int, insert: str) -> Command:
    command = Command(ref=ref, channel=channel)
    command.ot.spookyVersion = spooky
    command.ot.version = version
    command.ot.ops.add(insert=insert)
    return command


async def test_example_6_link_then_one_concurrent_edit_pair(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("abc")
    async with running_server(tmp_path) as rs:
        async with (
            raw_socket(rs.ws_url(rs.token("alice"))) as alice,
            raw_socket(rs.ws_url(rs.token("bob", user_id=2))) as bob,
        ):
            await example(alice, bob)


async def example(alice: RawSocket, bob: RawSocket) -> None:
    a, b = alice.session_id, bob.session_id
    opened = await alice.open("ot", "ot:notes.txt", ref="a1")
    channel = opened.openChanRes.id
    assert fields(opened) == {
        "session": a,
        "ref": "a1",
        "openChanRes": {"id": channel},  # state CREATED is the zero value: absent
    }
    assert opened.openChanRes.state == OpenChannelRes.CREATED
    assert fields(await alice.receive()) == {"channel": channel, "session": a, "otstatus": {}}

    link = Command(ref="a2", channel=channel)
    link.otLinkFile.file.path = "notes.txt"
    await alice.send(link)
    assert fields(await alice.receive()) == {
        "channel": channel,
        "session": a,
        "ot": {"spookyVersion": 1, "version": 1, "ops": [{"insert": "abc"}], "crc32": 891568578},
    }
    assert fields(await alice.receive()) == {
        "channel": channel,
        "session": a,
        "ref": "a2",
        "ok": {},
    }

    attached = await bob.open("ot", "ot:notes.txt", ref="b1")
    assert fields(attached) == {
        "session": b,
        "ref": "b1",
        "openChanRes": {"id": channel, "state": "ATTACHED"},
    }
    assert attached.openChanRes.state == OpenChannelRes.ATTACHED
    assert fields(await bob.receive()) == {
        "channel": channel,
        "session": b,
        "otstatus": {"contents": "abc", "version": 1, "linkedFile": {"path": "notes.txt"}},
    }

    await alice.send(ot_request("a3", channel, 1, 0, "X"))  # base 1 (spookyVersion only)
    first = {
        "channel": channel,
        "ot": {"spookyVersion": 2, "version": 2, "ops": [{"insert": "X"}], "crc32": 3851968641},
    }
    assert fields(await alice.receive()) == first
    assert fields(await alice.receive()) == {
        "channel": channel,
        "session": a,
        "ref": "a3",
        "ok": {},
    }
    assert fields(await bob.receive()) == first

    await bob.send(ot_request("b2", channel, 1, 2, "Y"))  # base 2 - 1 = 1
    second = {
        "channel": channel,
        "ot": {
            "spookyVersion": 3,
            "version": 3,
            "ops": [{"skip": 1}, {"insert": "Y"}],
            "crc32": 2988551151,
        },
    }
    assert fields(await alice.receive()) == second
    assert fields(await bob.receive()) == second
    assert fields(await bob.receive()) == {"channel": channel, "session": b, "ref": "b2", "ok": {}}
    await alice.expect_silence(0.1)
