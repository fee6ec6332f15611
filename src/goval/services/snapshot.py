"""The ``snapshot`` service (protocol §4.8): snapshots of the workspace, and the locks they wait on.

Owns the wire side only: ``fsSnapshot`` (wait until no lock is held, then commit),
``fsTakeLock`` / ``fsReleaseLock`` (named locks owned by the session on this channel, released
when it detaches) and ``checkChanges``. The git store and the lock table are server-wide
(``storage.SnapshotStore`` in ``<state>/snapshots.git``, ``storage.Locks``), shared by every
snapshot channel through :func:`snapshot_store` and :func:`snapshot_locks`; the CLI's
``goval snapshot list|restore`` opens the same store.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from goval._proto.api_pb2 import Command
from goval.identity import Role
from goval.services.base import Deferred, Peer, Reply, Service, ServiceContext, ok
from goval.storage import Locks, SnapshotStore

__all__ = ["SNAPSHOT_STORE_DIR", "SnapshotService", "open_snapshot_store", "snapshot_locks"]

SNAPSHOT_STORE_DIR = "snapshots.git"
LOCK_TIMEOUT = 60.0


def open_snapshot_store(workspace_root: Path, state_dir: Path) -> SnapshotStore:
    """The snapshot store of a workspace (created on first use)."""
    return SnapshotStore(state_dir / SNAPSHOT_STORE_DIR, workspace_root, state_dir)


def snapshot_store(ctx: ServiceContext) -> SnapshotStore:
    """The server's one snapshot store."""
    resources = ctx.resources
    return ctx.server.shared(
        "snapshot-store",
        lambda: open_snapshot_store(resources.workspace_root, resources.state_dir),
    )


def snapshot_locks(ctx: ServiceContext) -> Locks:
    """The server's one table of snapshot locks."""
    return ctx.server.shared("snapshot-locks", Locks)


class SnapshotService(Service):
    """fsSnapshot, fsTakeLock, fsReleaseLock, checkChanges."""

    name = "snapshot"
    min_role = Role.WRITE
    lock_timeout = LOCK_TIMEOUT

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self._lockers: set[int] = set()  # sessions that took a lock here

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        locks = snapshot_locks(self.ctx)
        match body:
            case "fsSnapshot":
                # Deferred: waiting for a lock must not stop this channel from handling the
                # fsReleaseLock that frees it.
                return Deferred(self._snapshot(locks))
            case "fsTakeLock":
                locks.take(command.fsTakeLock.name, self._owner(peer))
                self._lockers.add(peer.session_id)
                return ok()
            case "fsReleaseLock":
                locks.release(command.fsReleaseLock.name, self._owner(peer))
                return ok()
            case "checkChanges":
                store = snapshot_store(self.ctx)
                changed = await asyncio.to_thread(store.changed_files)
                reply = Command()
                reply.changedFiles.SetInParent()  # nothing changed is still changedFiles{}
                for path in changed:
                    reply.changedFiles.files.add(path=path)
                return reply
        return await super().handle(peer, command, body)

    async def _snapshot(self, locks: Locks) -> Command:
        await locks.wait_free(self.lock_timeout)
        store = snapshot_store(self.ctx)
        await asyncio.to_thread(store.snapshot, "snapshot")
        return ok()

    def _owner(self, peer: Peer) -> tuple[int, int]:
        # Locks belong to the session *on this channel*: its detach releases them.
        return (self.ctx.channel.id, peer.session_id)

    async def detach(self, peer: Peer) -> None:
        snapshot_locks(self.ctx).release_all(self._owner(peer))
        self._lockers.discard(peer.session_id)

    async def aclose(self) -> None:
        # A destroyed channel detaches nobody explicitly: its sessions' locks die with it.
        locks = snapshot_locks(self.ctx)
        for session_id in self._lockers:
            locks.release_all((self.ctx.channel.id, session_id))
        self._lockers.clear()
