"""Announcing the TCP ports workspace processes listen on (protocol §1.3, §2.7).

Owns the server's one ``PortWatcher`` and turns what it finds into channel-0 ``portOpen``
notices: broadcast to every session when a port opens, and one per open port to each new session
right after READY. Workspace processes are the server's children that lead their own session
(every process service starts its children so) and everything in those sessions; the server's
own port never counts. Closing is not announced (§2.7).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable

from goval._proto.api_pb2 import Command
from goval.host import ListeningPort, PortWatcher
from goval.host.procfs import child_sessions

__all__ = ["PortAnnouncer", "port_open", "reachable_by_proxy"]


def reachable_by_proxy(address: str) -> bool:
    """True when ``/proxy/<port>/`` (which dials loopback) reaches a socket bound there."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_unspecified or ip.is_loopback


def port_open(port: int, address: str) -> Command:
    """The ``portOpen`` notice for one listening socket."""
    command = Command()
    command.portOpen.port = port
    command.portOpen.address = address
    command.portOpen.forwarded = reachable_by_proxy(address)
    return command


class PortAnnouncer:
    """Watches for listening ports; ``announce`` is the router's channel-0 broadcast."""

    def __init__(self, announce: Callable[[Command], None], interval: float = 0.5) -> None:
        self._announce = announce
        self._interval = interval
        self._watcher: PortWatcher | None = None

    def start(self, own_ports: set[int]) -> None:
        """Start polling (``interval`` 0 disables it); ``own_ports`` are never announced."""
        if self._interval <= 0 or self._watcher is not None:
            return
        server_pid = os.getpid()
        self._watcher = PortWatcher(
            lambda port, address: self._announce(port_open(port, address)),
            exclude_ports=own_ports,
            interval=self._interval,
            sessions=lambda: child_sessions(server_pid),
        )
        self._watcher.start()

    def open_ports(self) -> list[ListeningPort]:
        """The workspace's listening ports as of the last poll, in port order."""
        return [] if self._watcher is None else sorted(self._watcher.open_ports)

    def notices(self) -> list[Command]:
        """One ``portOpen`` per open port: what a session gets right after READY."""
        return [port_open(p.port, p.address) for p in self.open_ports()]

    async def aclose(self) -> None:
        if self._watcher is not None:
            await self._watcher.aclose()
            self._watcher = None
