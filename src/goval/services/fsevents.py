"""The ``fsevents`` service (protocol §4.2): file change notifications for subscribed paths.

Owns each channel's subscription set and the translation of watcher changes into ``fileEvent``
pushes. A subscribed directory reports its direct children, a file itself, a missing path its
creation; subscriptions are cumulative and never removed. The watching itself (inotify,
debouncing, move detection) is the server-wide :class:`~goval.host.watcher.WorkspaceWatcher`,
shared by every channel and by other services through :func:`workspace_watcher`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from goval._proto.api_pb2 import Command, File, FileEvent
from goval.host.watcher import FileChange, WorkspaceWatcher
from goval.identity import Role
from goval.services.base import Peer, Reply, Service, ServiceContext, ok
from goval.storage.paths import parent_and_name

__all__ = ["FsEventsService", "workspace_watcher"]

_OPS = {
    "create": FileEvent.Create,
    "modify": FileEvent.Modify,
    "remove": FileEvent.Remove,
    "move": FileEvent.Move,
}


def workspace_watcher(ctx: ServiceContext) -> WorkspaceWatcher:
    """The server's one watcher of the workspace (created on first use, started by ``start``)."""
    resources = ctx.resources

    def create() -> WorkspaceWatcher:
        workspace = resources.workspace
        return WorkspaceWatcher(workspace.absolute("."), workspace.relative, ctx.server.spawn)

    return ctx.server.shared("watcher", create)


class FsEventsService(Service):
    """Pushes ``fileEvent`` for changes under the channel's subscriptions."""

    name = "fsevents"
    min_role = Role.READ

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self._paths: set[str] = set()
        self._unsubscribe: Callable[[], None] | None = None

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "subscribeFile":
                await self._subscribe([f.path for f in command.subscribeFile.files])
                return ok()
        return await super().handle(peer, command, body)

    async def _subscribe(self, paths: list[str]) -> None:
        workspace = self.ctx.resources.workspace
        cleaned = [workspace.clean(path, "open") for path in paths]  # escapes refused first
        watcher = workspace_watcher(self.ctx)
        for rel in cleaned:
            if workspace.is_hidden(rel):
                continue  # the state directory never produces events (§3.4)
            self._paths.add(rel)
            await asyncio.to_thread(watcher.remember, rel)
        if self._unsubscribe is None:
            self._unsubscribe = watcher.subscribe(self._on_changes)
        await watcher.start()

    def _wants(self, path: str) -> bool:
        parent, _ = parent_and_name(path)
        return path in self._paths or parent in self._paths

    def _on_changes(self, changes: list[FileChange]) -> None:
        for change in changes:
            if not (self._wants(change.path) or (change.dest and self._wants(change.dest))):
                continue
            kind = File.DIRECTORY if change.is_dir else File.REGULAR
            event = Command()
            event.fileEvent.file.path = change.path
            event.fileEvent.file.type = kind
            event.fileEvent.op = _OPS[change.op]
            if change.dest:
                event.fileEvent.dest.path = change.dest
                event.fileEvent.dest.type = kind
            self.ctx.channel.broadcast(event)

    async def aclose(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
