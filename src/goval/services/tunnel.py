"""The ``socket`` service (protocol §4.11): a TCP or UDP tunnel from the client to an address.

Owns one outbound connection per channel: ``connect{proto, addr}`` (loopback targets only unless
the server's ``SocketPolicy`` allows any), ``send{buff}`` out, ``recv{buff}`` S→* in (TCP
reading pauses while a peer lags; UDP datagrams are dropped then, as UDP may), and the end:
``disconnect{}`` S→* when the peer closes, ``disconnect{error}`` on an I/O error, and closing on
a client ``disconnect{}`` or when the channel is destroyed. (Named ``tunnel`` so it never
shadows the standard library's ``socket``.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from dataclasses import dataclass
from typing import cast

from goval._proto.api_pb2 import Command
from goval.errors import GovalError
from goval.identity import Role
from goval.services.backpressure import LagGate
from goval.services.base import Peer, Reply, Service, ServiceContext, ok

__all__ = ["SOCKET_POLICY", "SocketPolicy", "SocketService"]

SOCKET_POLICY = "socket.policy"


@dataclass(frozen=True)
class SocketPolicy:
    """Which addresses ``connect`` may reach; the server shares one under ``SOCKET_POLICY``."""

    any_address: bool = False

    def allows(self, ip: str) -> bool:
        if self.any_address:
            return True
        try:
            return ipaddress.ip_address(ip).is_loopback
        except ValueError:
            return False  # e.g. a scoped link-local address: never loopback


class _Relay(asyncio.Protocol, asyncio.DatagramProtocol):
    """Hands a transport's events to the service."""

    def __init__(self, service: SocketService) -> None:
        self._service = service

    def data_received(self, data: bytes) -> None:
        self._service.received(data)

    def datagram_received(self, data: bytes, addr: object) -> None:
        self._service.received(data)

    def error_received(self, exc: Exception) -> None:
        self._service.lost(exc)

    def eof_received(self) -> bool:
        return False  # half-closed by the peer: close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._service.lost(exc)


class SocketService(Service):
    """``connect`` / ``send`` / ``recv`` / ``disconnect`` over one TCP or UDP connection."""

    name = "socket"
    min_role = Role.WRITE

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self._policy = ctx.server.shared(SOCKET_POLICY, SocketPolicy)
        self._transport: asyncio.BaseTransport | None = None
        self._proto = ""
        self._gate: LagGate | None = None

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "connect":
                return await self._connect(command.connect.proto, command.connect.addr)
            case "send":
                self._send(command.send.buff)
                return None
            case "disconnect":
                self._close()
                return ok()
        return await super().handle(peer, command, body)

    async def aclose(self) -> None:
        self._close()

    # -- connecting ------------------------------------------------------------------------------
    async def _connect(self, proto: str, addr: str) -> Command:
        if self._transport is not None:
            raise GovalError("already connected")
        if proto not in ("tcp", "udp"):
            raise GovalError(f"unsupported protocol: {proto}")
        host, port = _split_address(addr)
        candidates = await _resolve(host, port, proto)
        allowed = [ip for ip in candidates if self._policy.allows(ip)]
        if not allowed:
            raise GovalError(f"address not allowed: {addr}")
        failure: OSError | None = None
        for ip in allowed:
            try:
                self._transport = await self._open(proto, ip, port)
            except OSError as exc:
                failure = exc
                continue
            self._proto = proto
            return ok()
        assert failure is not None
        reply = Command()
        reply.disconnect.error = f"dial {proto} {addr}: {_reason(failure)}"
        return reply

    async def _open(self, proto: str, ip: str, port: int) -> asyncio.BaseTransport:
        loop = asyncio.get_running_loop()
        if proto == "tcp":
            transport, _ = await loop.create_connection(lambda: _Relay(self), ip, port)
            self._gate = LagGate(
                self.ctx.channel, transport.pause_reading, transport.resume_reading
            )
            return transport
        datagram, _ = await loop.create_datagram_endpoint(
            lambda: _Relay(self), remote_addr=(ip, port)
        )
        return datagram

    # -- traffic ---------------------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            raise GovalError("not connected")
        # By protocol, not isinstance: uvloop's transports are not asyncio's classes.
        if self._proto == "udp":
            cast(asyncio.DatagramTransport, transport).sendto(data)
        else:
            cast(asyncio.WriteTransport, transport).write(data)

    def received(self, data: bytes) -> None:
        """The peer sent ``data``: to every attached session."""
        if self._proto == "udp" and any(peer.lagging for peer in self.ctx.channel.peers()):
            return  # no way to pause a UDP sender: drop, as the network may
        command = Command()
        command.recv.buff = data
        self.ctx.channel.broadcast(command)
        if self._gate is not None:
            self._gate.check()

    def lost(self, exc: Exception | None) -> None:
        """The connection ended by itself: ``disconnect{}`` or ``disconnect{error}`` S→*."""
        if self._transport is None:
            return  # we closed it (client disconnect, destroy): nothing to announce
        self._close()
        command = Command()
        command.disconnect.SetInParent()
        if exc is not None:
            command.disconnect.error = _reason(exc)
        self.ctx.channel.broadcast(command)

    def _close(self) -> None:
        transport, self._transport = self._transport, None
        if self._gate is not None:
            self._gate.close()
            self._gate = None
        if transport is not None:
            transport.close()


def _split_address(addr: str) -> tuple[str, int]:
    host, sep, port_text = addr.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise GovalError(f"invalid address: {addr}")
    return host, int(port_text)


async def _resolve(host: str, port: int, proto: str) -> list[str]:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=kind)
    except OSError as exc:
        raise GovalError(f"dial {proto} {host}:{port}: {_reason(exc)}") from None
    # Connect to the very address that was checked, never to a second lookup of the name.
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        # asyncio rewrites strerror ("Connect call failed ..."); the errno says what happened.
        text = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else exc.strerror
        if text:
            return text[:1].lower() + text[1:]
    return str(exc) or type(exc).__name__
