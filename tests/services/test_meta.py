"""meta (protocol.md §4.15): a persistent key-value store of bytes with clear limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from goval._proto.api_pb2 import AppendMeta, Command, ReadMeta, WriteMeta
from goval.client import ChannelOpenError
from goval.identity import Role
from goval.services.meta import MetaService
from goval.testing import ServiceHarness, running_server


def read(key: str) -> Command:
    return Command(readMeta=ReadMeta(key=key))


async def test_write_append_and_read_round_trip_bytes(tmp_path: Path) -> None:
    h = ServiceHarness(MetaService, tmp_path)
    peer = await h.attach("alice", Role.WRITE)
    missing = await h.request(peer, read("k"))
    assert missing is not None and (missing.readMeta.key, missing.readMeta.exists) == ("k", False)

    written = await h.request(peer, Command(writeMeta=WriteMeta(key="k", data=b"\x00ab")))
    assert written is not None and written.HasField("ok")
    await h.request(peer, Command(appendMeta=AppendMeta(key="k", data=b"\xffc")))
    await h.request(peer, Command(appendMeta=AppendMeta(key="new", data=b"first")))

    got = await h.request(peer, read("k"))
    assert got is not None and (got.readMeta.exists, got.readMeta.data) == (True, b"\x00ab\xffc")
    fresh = await h.request(peer, read("new"))
    assert fresh is not None and fresh.readMeta.data == b"first"
    await h.aclose()


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (Command(writeMeta=WriteMeta(key="", data=b"x")), "invalid key"),
        (Command(writeMeta=WriteMeta(key="k" * 257, data=b"x")), "invalid key"),
        (Command(readMeta=ReadMeta(key="")), "invalid key"),
        (Command(writeMeta=WriteMeta(key="k", data=b"x" * ((1 << 20) + 1))), "value too large"),
    ],
)
async def test_bad_keys_and_large_values_are_refused(
    tmp_path: Path, command: Command, text: str
) -> None:
    h = ServiceHarness(MetaService, tmp_path)
    peer = await h.attach()
    reply = await h.request(peer, command)
    assert reply is not None and reply.error == text
    await h.aclose()


async def test_an_append_past_the_limit_changes_nothing(tmp_path: Path) -> None:
    h = ServiceHarness(MetaService, tmp_path)
    peer = await h.attach()
    await h.request(peer, Command(writeMeta=WriteMeta(key="k", data=b"x" * (1 << 20))))
    reply = await h.request(peer, Command(appendMeta=AppendMeta(key="k", data=b"y")))
    assert reply is not None and reply.error == "value too large"
    got = await h.request(peer, read("k"))
    assert got is not None and got.readMeta.data == b"x" * (1 << 20)
    await h.aclose()


async def test_metadata_survives_a_server_restart(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs, rs.client("alice", Role.WRITE) as client:
        meta = await client.open("meta")
        await meta.request(Command(writeMeta=WriteMeta(key="theme", data=b"dark")))
    async with running_server(tmp_path) as rs, rs.client("alice", Role.WRITE) as client:
        meta = await client.open("meta")
        reply = await meta.request(read("theme"))
        assert (reply.readMeta.exists, reply.readMeta.data) == (True, b"dark")


async def test_a_read_only_guest_cannot_open_meta() -> None:
    async with running_server() as rs, rs.client("guest", Role.READ) as guest:
        with pytest.raises(ChannelOpenError, match="^permission denied: meta$"):
            await guest.open("meta")
