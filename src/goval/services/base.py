"""The one shape every service has, and the ports it is given.

A service is one class: a wire ``name``, a constructor taking a :class:`ServiceContext`, and
``attach`` / ``detach`` / ``handle`` / ``aclose``. It never sees sockets, frames or refs: the
router copies refs, checks roles and turns exceptions into ``error`` replies (protocol.md §3).
The context hands it its channel (peers, send, broadcast) and server-wide resources; the test
kit's ``ServiceHarness`` provides the same ports without any network.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from goval._proto.api_pb2 import Command, User
from goval.errors import PermissionDenied, Unsupported
from goval.host import Limits
from goval.identity import Identity, Role
from goval.services.file_urls import UrlSigner
from goval.storage import Database, Workspace, load_or_create_keys

__all__ = [
    "ChannelPort",
    "Deferred",
    "Peer",
    "ProcessDefaults",
    "Reply",
    "Resources",
    "ServerPort",
    "Service",
    "ServiceContext",
    "ok",
    "user_of",
]

T = TypeVar("T")


class Peer(Protocol):
    """One session as a service sees it; the same object on every channel it holds."""

    @property
    def session_id(self) -> int: ...

    @property
    def identity(self) -> Identity: ...

    @property
    def lagging(self) -> bool:
        """True while the session's outbound queue is over its budget (§3.5)."""
        ...

    async def wait_writable(self) -> None:
        """Return once the session's outbound queue is back under its budget."""
        ...


class ChannelPort(Protocol):
    """What a service may do with its own channel."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    def peers(self) -> list[Peer]:
        """Attached sessions, in attach order."""
        ...

    def send(self, peer: Peer, command: Command) -> None:
        """Queue a command on this channel for one attached session (no ref)."""
        ...

    def broadcast(self, command: Command, exclude: Peer | None = None) -> None:
        """Queue a command for every attached session, or all but ``exclude``."""
        ...


class ServerPort(Protocol):
    """Server-wide facilities a service may use."""

    def announce(self, command: Command) -> None:
        """Broadcast a channel-0 notice (portOpen, toast) to every ready session."""
        ...

    def shared(self, key: str, factory: Callable[[], T]) -> T:
        """The server's one instance of something services share (documents, locks)."""
        ...

    def spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run a background task owned by the server (cancelled at shutdown, errors logged)."""
        ...


@dataclass
class ProcessDefaults:
    """Defaults for processes started from now on; ``pid1Config`` (owner) changes them."""

    cwd: str = ""
    language: str = ""
    env: dict[str, str] = field(default_factory=dict)
    # Set once from the server's configuration; pid1Config does not change it.
    limits: Limits | None = None


@dataclass(frozen=True)
class Resources:
    """The workspace, the server's state, and the process defaults, shared by all services.

    ``workspace`` is the guarded file tree (every path a client names goes through it);
    ``database`` is the one SQLite state database (OT history, chat, meta, VCR).
    ``url_signer`` issues signed file URLs; ``workspace_id`` names the workspace;
    ``max_message`` is the message size limit (a bigger ``read`` reply is refused).
    """

    workspace: Workspace
    database: Database
    state_dir: Path
    process_defaults: ProcessDefaults
    # A random key unless opened from the state dir: URLs it signs die with the process.
    url_signer: UrlSigner = field(default_factory=lambda: UrlSigner(secrets.token_bytes(32)))
    workspace_id: str = ""
    max_message: int = 32 * 1024 * 1024
    chat_history: int = 100

    @property
    def workspace_root(self) -> Path:
        return self.workspace.root

    @classmethod
    def open(
        cls,
        workspace_root: Path,
        state_dir: Path,
        max_message: int = 32 * 1024 * 1024,
        chat_history: int = 100,
    ) -> Resources:
        """Open the workspace and the state database (creating the state directory)."""
        state_dir.mkdir(parents=True, exist_ok=True)
        root = workspace_root.resolve()
        state = state_dir.resolve()
        keys = load_or_create_keys(state)
        return cls(
            Workspace(root, hidden=state),
            Database(state / "state.sqlite3"),
            state,
            ProcessDefaults(),
            UrlSigner(keys.secret),
            keys.workspace_id,
            max_message,
            chat_history,
        )

    def close(self) -> None:
        self.database.close()
        self.workspace.close()


@dataclass(frozen=True)
class ServiceContext:
    """Everything a service instance is given: its channel, the server, the resources."""

    service: str
    channel: ChannelPort
    server: ServerPort
    resources: Resources


class Deferred:
    """A final reply that comes later; the channel keeps handling commands meanwhile.

    The router awaits ``reply`` in its own task and sends the result (or the error) with the
    request's ref. Use it for requests that wait on processes (exec, runMain).
    """

    def __init__(self, reply: Awaitable[Command | None]) -> None:
        self.reply = reply


Reply = Command | Deferred | None


def ok() -> Command:
    """An ``ok{}`` reply."""
    command = Command()
    command.ok.SetInParent()
    return command


def user_of(peer: Peer) -> User:
    """The wire ``User`` describing a peer (presence, cursors)."""
    identity = peer.identity
    return User(
        id=identity.user_id,
        name=identity.name,
        roles=[identity.role.wire_name],
        session=peer.session_id,
    )


class Service:
    """Base class of every service. Subclasses set ``name`` and override what they need.

    Class attributes the router reads:
      ``name``: canonical wire name; ``aliases``: other wire names that mean this service.
      ``min_role``: the weakest role that may open the channel (and send it anything).
      ``write_bodies``: bodies that need at least ``write`` even where ``min_role`` is ``read``.
      ``owner_bodies``: bodies that need ``owner``.
    ``handle`` returns the final reply, a :class:`Deferred`, or None (no reply; the router sends
    ``ok{}`` if the command carried a ref, per fire-and-forget rules).
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    min_role: ClassVar[Role] = Role.WRITE
    write_bodies: ClassVar[frozenset[str]] = frozenset()
    owner_bodies: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @classmethod
    def check_role(cls, role: Role, body: str) -> None:
        """Raise PermissionDenied unless ``role`` may send ``body`` to this service."""
        needed = cls.min_role
        if body in cls.write_bodies:
            needed = max(needed, Role.WRITE)
        if body in cls.owner_bodies:
            needed = Role.OWNER
        if role < needed:
            raise PermissionDenied(body)

    async def attach(self, peer: Peer) -> None:
        """A session attached; send its greeting here (openChanRes has already gone)."""

    async def detach(self, peer: Peer) -> None:
        """A session left the channel (close, socket loss); undo its per-session state."""

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        """Handle one command whose oneof body field is ``body``."""
        raise Unsupported(body, self.name)

    async def aclose(self) -> None:
        """The channel is destroyed: stop processes, flush state."""
