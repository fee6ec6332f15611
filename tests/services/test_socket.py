"""The ``socket`` service (protocol §4.11) against real TCP and UDP peers on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from goval._proto.api_pb2 import Command
from goval.services.tunnel import SOCKET_POLICY, SocketPolicy, SocketService
from goval.testing import FakePeer, ServiceHarness, running_server
from tests.host.helpers import eventually


def connect(addr: str, proto: str = "tcp") -> Command:
    command = Command()
    command.connect.proto = proto
    command.connect.addr = addr
    return command


def send(data: bytes) -> Command:
    command = Command()
    command.send.buff = data
    return command


def disconnect() -> Command:
    command = Command()
    command.disconnect.SetInParent()
    return command


def received(peer: FakePeer) -> bytes:
    return b"".join(c.recv.buff for c in peer.received if c.WhichOneof("body") == "recv")


def disconnects(peer: FakePeer) -> list[Command]:
    return [c for c in peer.received if c.WhichOneof("body") == "disconnect"]


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    h = ServiceHarness(SocketService, tmp_path)
    yield h
    await h.aclose()


@pytest.fixture
async def tcp_echo() -> AsyncIterator[tuple[int, list[asyncio.StreamWriter]]]:
    """An echo server; the list holds its connections so a test can close them."""
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], writers
    server.close()


async def test_tcp_round_trip_to_every_attached_session(
    harness: ServiceHarness, tcp_echo: tuple[int, list[asyncio.StreamWriter]]
) -> None:
    port, _ = tcp_echo
    alice = await harness.attach()
    bob = await harness.attach("bob")
    assert await harness.request(alice, connect(f"127.0.0.1:{port}")) == Command(ok=Command().ok)
    assert await harness.request(alice, send(b"ping \x00\xff")) is None
    await eventually(lambda: received(alice) == b"ping \x00\xff")
    await eventually(lambda: received(bob) == b"ping \x00\xff")
    assert all(c.session == 0 for c in bob.received)


async def test_peer_close_is_announced_as_an_empty_disconnect(
    harness: ServiceHarness, tcp_echo: tuple[int, list[asyncio.StreamWriter]]
) -> None:
    port, writers = tcp_echo
    alice = await harness.attach()
    await harness.request(alice, connect(f"localhost:{port}"))
    await eventually(lambda: len(writers) == 1)
    writers[0].close()
    await eventually(lambda: len(disconnects(alice)) == 1)
    [notice] = disconnects(alice)
    assert notice.disconnect.error == ""
    assert await harness.request(alice, send(b"late")) == Command(error="not connected")


async def test_connecting_twice_is_already_connected(
    harness: ServiceHarness, tcp_echo: tuple[int, list[asyncio.StreamWriter]]
) -> None:
    port, _ = tcp_echo
    alice = await harness.attach()
    await harness.request(alice, connect(f"127.0.0.1:{port}"))
    assert await harness.request(alice, connect(f"127.0.0.1:{port}")) == Command(
        error="already connected"
    )


async def test_client_disconnect_closes_and_allows_a_new_connect(
    harness: ServiceHarness, tcp_echo: tuple[int, list[asyncio.StreamWriter]]
) -> None:
    port, writers = tcp_echo
    alice = await harness.attach()
    await harness.request(alice, connect(f"127.0.0.1:{port}"))
    assert await harness.request(alice, disconnect()) == Command(ok=Command().ok)
    await eventually(lambda: len(writers) == 1 and writers[0].is_closing())
    assert disconnects(alice) == []  # our own close is not announced
    assert (await harness.request(alice, connect(f"127.0.0.1:{port}"))) == Command(ok=Command().ok)


async def test_a_refused_connection_is_a_disconnect_with_the_error(
    harness: ServiceHarness,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    alice = await harness.attach()
    reply = await harness.request(alice, connect(f"127.0.0.1:{free}"))
    assert reply is not None and reply.WhichOneof("body") == "disconnect"
    assert reply.disconnect.error == f"dial tcp 127.0.0.1:{free}: connection refused"


async def test_non_loopback_targets_are_not_allowed_by_default(harness: ServiceHarness) -> None:
    alice = await harness.attach()
    for addr in ("10.1.2.3:80", "[2001:db8::1]:443", "0.0.0.0:80"):
        assert await harness.request(alice, connect(addr)) == Command(
            error=f"address not allowed: {addr}"
        )
    assert await harness.request(alice, connect("nonsense")) == Command(
        error="invalid address: nonsense"
    )
    assert await harness.request(alice, connect("127.0.0.1:1", "sctp")) == Command(
        error="unsupported protocol: sctp"
    )
    assert await harness.request(alice, send(b"x")) == Command(error="not connected")


def test_the_policy_can_allow_any_address() -> None:
    assert SocketPolicy(any_address=True).allows("10.1.2.3")
    assert not SocketPolicy().allows("10.1.2.3")
    assert SocketPolicy().allows("::1")


async def test_udp_datagrams_go_both_ways(harness: ServiceHarness) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer_socket:
        peer_socket.bind(("127.0.0.1", 0))
        peer_socket.setblocking(False)
        port = peer_socket.getsockname()[1]
        alice = await harness.attach()
        assert await harness.request(alice, connect(f"127.0.0.1:{port}", "udp")) == Command(
            ok=Command().ok
        )
        await harness.request(alice, send(b"datagram one"))
        loop = asyncio.get_running_loop()
        data, source = await asyncio.wait_for(loop.sock_recvfrom(peer_socket, 2048), 5)
        assert data == b"datagram one"
        await loop.sock_sendto(peer_socket, b"reply", source)
        await eventually(lambda: received(alice) == b"reply")


async def test_a_lagging_peer_pauses_tcp_reading(
    harness: ServiceHarness, tcp_echo: tuple[int, list[asyncio.StreamWriter]]
) -> None:
    port, _ = tcp_echo
    alice = await harness.attach()
    await harness.request(alice, connect(f"127.0.0.1:{port}"))
    alice.lagging = True
    await harness.request(alice, send(b"a"))
    await eventually(lambda: received(alice) == b"a")
    await harness.request(alice, send(b"b"))
    await asyncio.sleep(0.2)
    assert received(alice) == b"a"  # held back while alice is over budget
    alice.lagging = False
    await eventually(lambda: received(alice) == b"ab")


async def test_the_server_policy_is_shared_by_socket_channels(tmp_path: Path) -> None:
    async with running_server(tmp_path, socket_any_address=True) as rs:
        assert rs.server.router.shared(SOCKET_POLICY, SocketPolicy).any_address
    async with running_server(tmp_path) as rs, rs.client() as client:
        channel = await client.open("socket")
        reply = await channel.request(connect("192.0.2.1:80"), check=False)
        assert reply.error == "address not allowed: 192.0.2.1:80"
