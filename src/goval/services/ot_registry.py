"""The server-wide table of live OT documents (protocol.md §5.1, §5.5, §5.10, §3.6).

Owns loading a document on its first link (history from the state database, or version 1 from
the file), unloading it when its last channel goes (after writing it), routing the workspace
watcher's changes to the documents they touch, and the flushes other parts of the server ask
for: every document with unwritten edits is written before any process starts (registered in
the ``before_process_start`` hook) and at shutdown. One instance per server, through
``ServerPort.shared(REGISTRY_KEY, ...)``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from goval.host.watcher import FileChange, WorkspaceWatcher
from goval.ot import Document
from goval.services.base import ChannelPort, Resources, ServerPort
from goval.services.ot_disk import DiskSync, synced_base
from goval.services.ot_document import MAX_DOCUMENT_BYTES, LiveDocument
from goval.services.ot_wire import packet_from_stored
from goval.services.process_env import before_process_start
from goval.storage import OTStore

__all__ = ["REGISTRY_KEY", "DocumentRegistry", "Linked"]

REGISTRY_KEY = "ot-documents"


@dataclass(frozen=True, slots=True)
class Linked:
    """A document a channel is linking, and the broadcast of what the link committed."""

    live: LiveDocument
    disk: DiskSync
    committed: asyncio.Future[None] | None


class DocumentRegistry:
    """Every loaded document by cleaned path, with its disk side."""

    max_bytes = MAX_DOCUMENT_BYTES
    write_delay = 0.5

    def __init__(self, resources: Resources, server: ServerPort, watcher: WorkspaceWatcher) -> None:
        self.resources = resources
        self.store = OTStore(resources.database)
        self.documents: dict[str, LiveDocument] = {}
        self.disks: dict[str, DiskSync] = {}
        self._server = server
        self._watcher = watcher
        self._unsubscribe = watcher.subscribe(self._on_changes)
        self._lock = asyncio.Lock()  # orders loads, links and unloads
        self._linking: dict[str, int] = {}  # links in progress: an unload must wait for them
        before_process_start(server).append(self.flush_all)

    async def link(self, path: str, text: str, high_consistency: bool) -> Linked:
        """Load or find the document of ``path`` and bring it up to date with ``text`` (the
        file as just read). The caller must call :meth:`linked` when it is done."""
        async with self._lock:
            self._linking[path] = self._linking.get(path, 0) + 1
            try:
                live = self.documents.get(path)
                if live is None:
                    return await self._load(path, text, high_consistency)
                live.high_consistency |= high_consistency
                disk = self.disks[path]
                return Linked(live, disk, await disk.absorb(text))
            except BaseException:
                self._link_done(path)
                raise

    def linked(self, live: LiveDocument, channel: ChannelPort | None) -> None:
        """The link of ``live`` finished; ``channel`` is newly linked to it (or None)."""
        if channel is not None and channel not in live.channels:
            live.channels.append(channel)
        self._link_done(live.path)

    def _link_done(self, path: str) -> None:
        left = self._linking.get(path, 1) - 1
        if left:
            self._linking[path] = left
        else:
            self._linking.pop(path, None)

    async def _load(self, path: str, text: str, high_consistency: bool) -> Linked:
        stored = await asyncio.to_thread(self.store.load, path)
        document = await asyncio.to_thread(
            Document.restore, [packet_from_stored(row) for row in stored]
        )
        live = LiveDocument(path, document, self.store, max_bytes=self.max_bytes)
        live.high_consistency = high_consistency
        current = await asyncio.to_thread(synced_base, document.history, str(document.text), text)
        spawn = self._server.spawn
        disk = DiskSync(
            live, self.resources.workspace, spawn, synced=current, write_delay=self.write_delay
        )
        committed: asyncio.Future[None] | None
        if document.version == 0:
            disk.synced_text, disk.synced_version = text, 1
            committed = live.commit_text(text)  # §5.4: the first link commits version 1
        else:
            committed = await disk.absorb(text)
        self.documents[path] = live
        self.disks[path] = disk
        await self._watch(path)
        return Linked(live, disk, committed)

    async def _watch(self, path: str) -> None:
        await asyncio.to_thread(self._watcher.remember, path)
        await self._watcher.start()

    def _on_changes(self, changes: list[FileChange]) -> None:
        for change in changes:
            for path, disk in self.disks.items():
                if _touches(change.path, path) or (change.dest and _touches(change.dest, path)):
                    disk.request_check()

    async def release(self, live: LiveDocument, channel: ChannelPort) -> None:
        """``channel`` is destroyed: unlink it; the last one writes and unloads the document."""
        if channel in live.channels:
            live.channels.remove(channel)
        if live.channels:
            return
        await live.wait_settled()
        disk = self.disks.get(live.path)
        if disk is not None:
            await disk.write()
        async with self._lock:
            if live.channels or self._linking.get(live.path):
                return  # linked again meanwhile
            if self.documents.get(live.path) is live:
                del self.documents[live.path]
                self.disks.pop(live.path, None)
            if disk is not None:
                disk.close()

    async def flush(self, live: LiveDocument) -> None:
        """``flush{}`` (§5.10): history durable, text written and fsynced."""
        await live.wait_settled()
        if not live.high_consistency:
            # Normal appends are WAL commits without fsync: a checkpoint fsyncs the WAL first.
            await asyncio.to_thread(self.resources.database.query, "PRAGMA wal_checkpoint(PASSIVE)")
        disk = self.disks.get(live.path)
        if disk is not None:
            await disk.write(durable=True)

    async def flush_all(self, durable: bool = False) -> None:
        """Write every document with unwritten edits (before processes start, §3.6)."""
        for disk in list(self.disks.values()):
            if disk.unwritten or durable:
                await disk.write(durable=durable)

    async def aclose(self) -> None:
        """Shutdown: store, broadcast and write everything still pending."""
        self._unsubscribe()
        for live in list(self.documents.values()):
            await live.wait_settled()
        await self.flush_all(durable=True)
        for disk in self.disks.values():
            disk.close()
        callbacks = before_process_start(self._server)
        if self.flush_all in callbacks:
            callbacks.remove(self.flush_all)


def _touches(changed: str, path: str) -> bool:
    """Whether a change of ``changed`` may change the file at ``path`` (itself or a parent)."""
    return changed == path or path.startswith(changed + "/") or changed == "."
