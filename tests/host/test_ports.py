"""Listening-port detection from /proc/net/tcp{,6}, with real sockets."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

import pytest

from goval.host import PipeProcess, PortWatcher, listening_sockets, parse_proc_net_tcp
from tests.host.helpers import Collector, eventually

SAMPLE = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 99 1
"""

SAMPLE6 = (
    "  sl  local_address remote_address st tx_queue rx_queue tr tm->when retrnsmt uid inode\n"
    "   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A"
    " 00000000:00000000 00:00000000 00000000 0 0 555 1\n"
)


def test_listen_rows_are_parsed_with_address_port_and_inode() -> None:
    found = parse_proc_net_tcp(SAMPLE)
    assert {(p.address, p.port, inode) for p, inode in found.items()} == {
        ("127.0.0.1", 8080, 4242),
        ("0.0.0.0", 22, 77),
    }


def test_ipv6_addresses_are_decoded() -> None:
    [(port, inode)] = parse_proc_net_tcp(SAMPLE6).items()
    assert (port.address, port.port, inode) == ("::1", 80, 555)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock
    sock.close()


def test_a_real_listening_socket_is_found(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    assert any(p.port == port and p.address == "127.0.0.1" for p in listening_sockets())


async def test_the_watcher_reports_a_new_port_once_and_its_closing(listener: socket.socket) -> None:
    opened: list[tuple[int, str]] = []
    closed: list[tuple[int, str]] = []
    watcher = PortWatcher(
        lambda port, addr: opened.append((port, addr)),
        on_closed=lambda port, addr: closed.append((port, addr)),
        interval=0.02,
        report_existing=False,
    )
    async with watcher:
        late = socket.socket()
        late.bind(("127.0.0.1", 0))
        late.listen()
        port = late.getsockname()[1]
        await eventually(lambda: (port, "127.0.0.1") in opened)
        late.close()
        await eventually(lambda: (port, "127.0.0.1") in closed)
    assert opened.count((port, "127.0.0.1")) == 1
    assert listener.getsockname()[1] not in [p for p, _ in opened]  # existed before


def test_excluded_ports_are_never_reported(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    opened: list[int] = []
    watcher = PortWatcher(lambda p, a: opened.append(p), exclude_ports={port})
    watcher.poll()
    assert port not in opened


async def test_only_sockets_of_the_given_sessions_count_when_sessions_are_given(
    listener: socket.socket,
) -> None:
    out = Collector()
    serve = (
        "import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
        "print(s.getsockname()[1], flush=True); time.sleep(60)"
    )
    child = await PipeProcess.start([sys.executable, "-c", serve], cwd="/tmp", on_output=out)
    try:
        await eventually(lambda: out.text.endswith("\n"))
        child_port = int(out.text)
        opened: list[int] = []
        watcher = PortWatcher(lambda p, a: opened.append(p), sessions=lambda: {child.pid})
        watcher.poll()
        assert opened == [child_port]  # not our own listener
    finally:
        await child.terminate_group(grace=1.0)
