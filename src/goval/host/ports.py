"""Detecting TCP ports that workspace programs start listening on.

Owns parsing ``/proc/net/tcp`` and ``/proc/net/tcp6`` (the server's network namespace) for
sockets in state LISTEN (``0A``) and ``PortWatcher``, which polls them on the asyncio loop and
reports each newly opened (port, address) once, except the server's own ports.

Ownership: with ``sessions`` given, only sockets held by processes in those sessions count
(matched by socket inode through ``/proc/<pid>/fd``) — that covers a child, everything its shell
started and their job-control groups, but not a daemon that called ``setsid`` itself. Without
``sessions``, every listening socket in the namespace counts except the excluded ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from goval.host.procfs import all_stats, socket_inodes

__all__ = ["ListeningPort", "PortWatcher", "listening_sockets", "parse_proc_net_tcp"]

_LISTEN = "0A"


@dataclass(frozen=True, slots=True, order=True)
class ListeningPort:
    """A listening TCP socket's local end (``address`` as ``ipaddress`` prints it)."""

    port: int
    address: str


def _address(hex_address: str) -> str:
    # The kernel prints the address as 32-bit words in host (little-endian) byte order.
    raw = bytes.fromhex(hex_address)
    swapped = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(swapped))


def parse_proc_net_tcp(text: str) -> dict[ListeningPort, int]:
    """The LISTEN sockets of a ``/proc/net/tcp`` or ``tcp6`` table → their socket inode."""
    found: dict[ListeningPort, int] = {}
    for row in text.splitlines()[1:]:
        fields = row.split()
        if len(fields) < 10 or fields[3] != _LISTEN:
            continue
        hex_address, _, hex_port = fields[1].partition(":")
        found[ListeningPort(int(hex_port, 16), _address(hex_address))] = int(fields[9])
    return found


def listening_sockets(net_dir: str = "/proc/net") -> dict[ListeningPort, int]:
    """Every listening TCP socket (IPv4 and IPv6) → its inode."""
    found: dict[ListeningPort, int] = {}
    for name in ("tcp", "tcp6"):
        try:
            found.update(parse_proc_net_tcp(Path(net_dir, name).read_text()))
        except OSError:
            continue  # no IPv6 (or no /proc): nothing listens there
    return found


def _inodes_of_sessions(sessions: Collection[int]) -> set[int]:
    wanted = set(sessions)
    inodes: set[int] = set()
    for stat in all_stats():
        if stat.sid in wanted and not stat.dead:
            inodes |= socket_inodes(stat.pid)
    return inodes


class PortWatcher:
    """Polls for listening ports and reports new ones to ``on_opened(port, address)``.

    Args:
        on_opened: called once per newly listening (port, address).
        exclude_ports: never reported (the server's own ports).
        interval: seconds between polls.
        sessions: returns the session ids whose sockets count (None: all sockets count).
        on_closed: optionally called when a reported port stops listening.
        report_existing: report ports already listening at the first poll.
    """

    def __init__(
        self,
        on_opened: Callable[[int, str], None],
        *,
        exclude_ports: Collection[int] = (),
        interval: float = 0.5,
        sessions: Callable[[], Collection[int]] | None = None,
        on_closed: Callable[[int, str], None] | None = None,
        report_existing: bool = True,
        net_dir: str = "/proc/net",
    ) -> None:
        self._on_opened = on_opened
        self._on_closed = on_closed
        self._exclude = frozenset(exclude_ports)
        self._interval = interval
        self._sessions = sessions
        self._net_dir = net_dir
        self._known: set[ListeningPort] = set() if report_existing else self._scan()
        self._task: asyncio.Task[None] | None = None

    @property
    def open_ports(self) -> set[ListeningPort]:
        """What the last poll found."""
        return set(self._known)

    def poll(self) -> list[ListeningPort]:
        """Scan once, report changes through the callbacks, return the newly opened ports."""
        return self._report(self._scan())

    def _report(self, current: set[ListeningPort]) -> list[ListeningPort]:
        opened = sorted(current - self._known)
        closed = sorted(self._known - current)
        self._known = current
        for port in opened:
            self._on_opened(port.port, port.address)
        if self._on_closed is not None:
            for port in closed:
                self._on_closed(port.port, port.address)
        return opened

    def start(self) -> None:
        """Start polling every ``interval`` seconds on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> PortWatcher:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _run(self) -> None:
        while True:
            # Reading /proc/net/tcp and every process's fds takes tens of ms with many sockets:
            # off the event loop, or every session's latency would spike twice a second.
            self._report(await asyncio.to_thread(self._scan))
            await asyncio.sleep(self._interval)

    def _scan(self) -> set[ListeningPort]:
        sockets = listening_sockets(self._net_dir)
        ports = {p for p in sockets if p.port not in self._exclude}
        if self._sessions is None:
            return ports
        owned = _inodes_of_sessions(self._sessions())
        return {p for p in ports if sockets[p] in owned}
