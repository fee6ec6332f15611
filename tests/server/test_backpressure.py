import asyncio
import base64
import os
import socket
import struct
import urllib.parse

from goval._proto.api_pb2 import Command
from goval.testing import running_server
from tests.server.kit import TEST_REGISTRY, raw_socket


async def test_a_client_that_stops_reading_is_dropped_and_the_others_get_everything() -> None:
    async with running_server(
        registry=TEST_REGISTRY, send_budget=64 * 1024, send_queue_limit=256 * 1024
    ) as rs:
        token = rs.token()
        if True:
            # The stalled client: a bare TCP socket with a small receive buffer, never read.
            stalled = await StalledClient.connect(rs.ws_url(token))
            stalled_session = 2  # the first session of this server
            async with (
                raw_socket(rs.ws_url(token)) as reader,
                raw_socket(rs.ws_url(token)) as writer,
            ):
                stalled_channel_command = Command(ref="s")
                stalled_channel_command.openChan.service = "echo"
                stalled_channel_command.openChan.name = "flood"
                stalled_channel_command.openChan.action = 2  # type: ignore[assignment]
                await stalled.send_frame(stalled_channel_command.SerializeToString())
                channel = (await writer.open("echo", "flood")).openChanRes.id
                await writer.receive()
                await reader.open("echo", "flood")
                await reader.receive()
                payload = "x" * 8192
                count = 1200  # 9.6 MiB: past the kernel buffers and the 256 KiB queue limit
                received = 0

                async def read_all() -> None:
                    nonlocal received
                    while received < count:
                        message = await reader.receive(timeout=10)
                        if message.output == payload:
                            received += 1

                reading = asyncio.ensure_future(read_all())
                for sent in range(1, count + 1):
                    await writer.send(Command(channel=channel, input=payload))
                    while sent - received > 16:  # a healthy reader: never far behind
                        await asyncio.sleep(0.001)
                await asyncio.wait_for(reading, 30)
                assert received == count
                session = None
                for _ in range(200):
                    session = rs.server.router.sessions.get(stalled_session)
                    if session is None:
                        break
                    await asyncio.sleep(0.05)
                assert session is None, "the stalled session should have been dropped"
            stalled.close()


async def test_a_lagging_session_recovers_when_it_reads_again() -> None:
    async with running_server(
        registry=TEST_REGISTRY, send_budget=16 * 1024, send_queue_limit=64 * 1024 * 1024
    ) as rs:
        async with (
            raw_socket(rs.ws_url(rs.token())) as slow,
            raw_socket(rs.ws_url(rs.token())) as fast,
        ):
            channel = (await slow.open("echo", "e")).openChanRes.id
            await slow.receive()
            await fast.open("echo", "e")
            await fast.receive()
            session = rs.server.router.sessions[slow.session_id]
            for _ in range(100):
                await fast.send(Command(channel=channel, input="y" * 4096))
            await fast.send(Command(channel=channel, ref="done", input="z"))
            await fast.receive()
            got = 0
            while got < 101:
                await slow.receive()
                got += 1
            assert not session.lagging and session.queued_bytes == 0


class StalledClient:
    """A WebSocket client that upgrades, sends, and then never reads again."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, url: str) -> "StalledClient":
        parts = urllib.parse.urlsplit(url)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        await reader.readuntil(b"\r\n\r\n")
        return cls(reader, writer)

    async def send_frame(self, payload: bytes) -> None:
        mask = os.urandom(4)
        header = bytes([0x82])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)
        await self.writer.drain()

    def close(self) -> None:
        self.writer.close()
