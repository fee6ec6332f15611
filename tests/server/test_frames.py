import asyncio

import pytest

from goval._proto.api_pb2 import Command
from goval.server.frames import binary_frame_header
from goval.testing import running_server
from tests.server.kit import TEST_REGISTRY, raw_socket


@pytest.mark.parametrize(
    ("length", "header"),
    [
        (0, b"\x82\x00"),
        (125, b"\x82\x7d"),
        (126, b"\x82\x7e\x00\x7e"),
        (65535, b"\x82\x7e\xff\xff"),
        (65536, b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
    ],
)
def test_binary_frame_headers_follow_rfc_6455(length: int, header: bytes) -> None:
    assert binary_frame_header(length) == header


@pytest.mark.parametrize("compress", [False, True])
async def test_a_burst_of_small_and_huge_frames_arrives_whole_and_in_order(compress: bool) -> None:
    sizes = [1, 200, 70_000, 5, 3_000_000, 17]
    async with running_server(registry=TEST_REGISTRY, compress=compress) as rs:
        async with (
            raw_socket(rs.ws_url(rs.token())) as sender,
            raw_socket(rs.ws_url(rs.token())) as receiver,
        ):
            channel = (await sender.open("echo", "burst")).openChanRes.id
            await sender.receive()
            await receiver.open("echo", "burst")
            await receiver.receive()
            for index, size in enumerate(sizes):
                await sender.send(Command(channel=channel, input=str(index % 10) * size))
            got = [await receiver.receive(timeout=10) for _ in sizes]
            assert [len(c.output) for c in got] == sizes
            assert [c.output[:1] for c in got] == [str(i % 10) for i in range(len(sizes))]
            await asyncio.sleep(0)
