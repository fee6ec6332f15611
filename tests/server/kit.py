"""Raw-socket helpers and small test services for server tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import ClassVar

import aiohttp

from goval._proto.api_pb2 import Command, OpenChannel
from goval.identity import Role
from goval.services.base import Peer, Reply, Service, ok
from goval.services.null import NullService
from goval.services.registry import ServiceRegistry


class EchoService(Service):
    """Greets attachers, echoes input to the others, fails on demand."""

    name = "echo"
    min_role = Role.READ
    write_bodies = frozenset({"input"})
    detached: ClassVar[list[int]] = []
    closed: ClassVar[list[int]] = []

    async def attach(self, peer: Peer) -> None:
        self.ctx.channel.send(peer, Command(output=f"hello {peer.identity.name}"))

    async def detach(self, peer: Peer) -> None:
        EchoService.detached.append(peer.session_id)
        self.ctx.channel.broadcast(Command(output=f"bye {peer.session_id}"))

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "input":
                self.ctx.channel.broadcast(Command(output=command.input), exclude=peer)
                return ok()
            case "eval":
                self.ctx.channel.broadcast(Command(output=command.eval))
                return Command(result="done")
            case "clear":
                raise ValueError("boom")
        return await super().handle(peer, command, body)

    async def aclose(self) -> None:
        EchoService.closed.append(self.ctx.channel.id)


class WriterOnlyService(NullService):
    name = "writeronly"
    min_role = Role.WRITE


TEST_REGISTRY = ServiceRegistry([NullService, EchoService, WriterOnlyService])


class RawSocket:
    """A bare WebSocket speaking Commands, for exact wire assertions."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.session_id = 0
        self.handshake: list[Command] = []

    async def read_handshake(self) -> list[Command]:
        while True:
            command = await self.receive()
            self.handshake.append(command)
            if command.WhichOneof("body") == "containerState":
                self.session_id = command.session
                return self.handshake

    async def send(self, command: Command) -> None:
        await self.ws.send_bytes(command.SerializeToString())

    async def receive(self, timeout: float = 5.0) -> Command:
        message = await self.ws.receive(timeout=timeout)
        if message.type != aiohttp.WSMsgType.BINARY:
            raise AssertionError(f"expected a binary frame, got {message.type} {message.data!r}")
        command = Command()
        command.ParseFromString(message.data)
        return command

    async def expect_silence(self, seconds: float = 0.2) -> None:
        with contextlib.suppress(TimeoutError):
            message = await self.ws.receive(timeout=seconds)
            raise AssertionError(f"expected nothing, got {message}")

    async def close_code(self, timeout: float = 5.0) -> int | None:
        """Wait for the server's close and return its code."""
        while True:
            message = await self.ws.receive(timeout=timeout)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return self.ws.close_code

    async def request(self, command: Command) -> Command:
        await self.send(command)
        return await self.receive()

    async def open(
        self, service: str, name: str = "", action: int | None = None, ref: str = "o"
    ) -> Command:
        command = Command(ref=ref)
        command.openChan.service = service
        command.openChan.name = name
        default = OpenChannel.ATTACH_OR_CREATE if name else OpenChannel.CREATE
        command.openChan.action = (
            OpenChannel.Action.ValueType(action) if action is not None else default
        )
        return await self.request(command)


@contextlib.asynccontextmanager
async def raw_socket(url: str, handshake: bool = True) -> AsyncIterator[RawSocket]:
    async with aiohttp.ClientSession() as http, http.ws_connect(url, autoping=True) as ws:
        raw = RawSocket(ws)
        if handshake:
            await asyncio.wait_for(raw.read_handshake(), 5)
        yield raw
