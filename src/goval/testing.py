"""The shipped test kit: a real server on a free port, connected clients, and a service harness.

``running_server()`` starts a complete server on 127.0.0.1 for a workspace directory;
``ServiceHarness`` runs one service with in-memory peers and no sockets (its pushes are
recorded per peer), for fast service tests that still use real files and processes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

from goval._proto.api_pb2 import Command
from goval.client import Client, connect
from goval.identity import Identity, Role
from goval.server.app import Server
from goval.server.channel import error_text
from goval.server.config import ServerConfig
from goval.services.base import (
    Deferred,
    Peer,
    Resources,
    Service,
    ServiceContext,
)
from goval.services.facilities import ServerFacilities
from goval.services.registry import ServiceRegistry

__all__ = ["FakePeer", "RunningServer", "ServiceHarness", "running_server"]

T = TypeVar("T")


@dataclasses.dataclass
class RunningServer:
    """A started server plus helpers to mint tokens and connect clients."""

    server: Server
    workspace: Path

    @property
    def url(self) -> str:
        return self.server.base_url

    def token(self, name: str = "alice", role: Role = Role.OWNER, user_id: int = 1) -> str:
        return self.server.mint_token(name, role, user_id)

    def ws_url(self, token: str) -> str:
        return self.server.websocket_url(token)

    @contextlib.asynccontextmanager
    async def client(
        self,
        name: str = "alice",
        role: Role = Role.OWNER,
        user_id: int = 1,
        reconnect: bool = False,
    ) -> AsyncIterator[Client]:
        async with connect(self.url, self.token(name, role, user_id), reconnect=reconnect) as c:
            yield c


@contextlib.asynccontextmanager
async def running_server(
    workspace: Path | None = None, registry: ServiceRegistry | None = None, **config: Any
) -> AsyncIterator[RunningServer]:
    """Start a server on 127.0.0.1 (free port) for ``workspace`` (a temp dir by default)."""
    with contextlib.ExitStack() as stack:
        if workspace is None:
            workspace = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="goval-ws-")))
        settings = {"host": "127.0.0.1", "port": 0, **config}
        server = Server(ServerConfig(workspace=workspace, **settings), registry)
        await server.start()
        try:
            yield RunningServer(server, workspace)
        finally:
            await server.aclose()


@dataclasses.dataclass(eq=False)
class FakePeer:
    """An in-memory session for the harness: records what the service sends it."""

    session_id: int
    identity: Identity
    received: list[Command] = dataclasses.field(default_factory=list)
    lagging: bool = False

    async def wait_writable(self) -> None:
        return None


class _HarnessChannel:
    def __init__(self, channel_id: int, name: str) -> None:
        self._id = channel_id
        self._name = name
        self.attached: list[FakePeer] = []

    @property
    def id(self) -> int:
        return self._id

    @property
    def name(self) -> str:
        return self._name

    def peers(self) -> list[Peer]:
        return list(self.attached)

    def send(self, peer: Peer, command: Command) -> None:
        for fake in self.attached:
            if fake.session_id == peer.session_id:
                command.channel = self._id
                command.session = fake.session_id
                fake.received.append(_copy(command))

    def broadcast(self, command: Command, exclude: Peer | None = None) -> None:
        command.channel = self._id
        command.session = 0 if exclude is None else -exclude.session_id
        for fake in self.attached:
            if exclude is None or fake.session_id != exclude.session_id:
                fake.received.append(_copy(command))


class _HarnessServer(ServerFacilities):
    def __init__(self) -> None:
        super().__init__()
        self.announced: list[Command] = []

    def announce(self, command: Command) -> None:
        self.announced.append(_copy(command))


class ServiceHarness:
    """Runs one service instance with fake peers: ``attach``, ``request``, ``aclose``."""

    def __init__(
        self,
        service: type[Service],
        workspace: Path,
        state_dir: Path | None = None,
        channel_name: str = "",
    ) -> None:
        state = state_dir if state_dir is not None else workspace / ".goval"
        state.mkdir(parents=True, exist_ok=True)
        self.channel = _HarnessChannel(1, channel_name)
        self.server = _HarnessServer()
        self.resources = Resources.open(workspace, state)
        context = ServiceContext(service.name, self.channel, self.server, self.resources)
        self.service = service(context)
        self._next_session = 2

    async def attach(
        self, name: str = "alice", role: Role = Role.OWNER, user_id: int = 1
    ) -> FakePeer:
        peer = FakePeer(self._next_session, Identity(user_id, name, role))
        self._next_session += 1
        self.channel.attached.append(peer)
        await self.service.attach(peer)
        return peer

    async def detach(self, peer: FakePeer) -> None:
        self.channel.attached.remove(peer)
        await self.service.detach(peer)

    async def request(self, peer: FakePeer, command: Command) -> Command | None:
        """Handle a command as the router would (role checks included); returns the reply."""
        body = command.WhichOneof("body")
        assert body is not None, "command has no body"
        try:
            self.service.check_role(peer.identity.role, body)
            reply = await self.service.handle(peer, command, body)
            if isinstance(reply, Deferred):
                reply = await reply.reply
        except Exception as exc:
            return Command(error=error_text(exc))
        return reply

    async def aclose(self) -> None:
        await self.service.aclose()
        await self.server.close_facilities()
        self.resources.close()


def _copy(command: Command) -> Command:
    copy = Command()
    copy.CopyFrom(command)
    return copy
