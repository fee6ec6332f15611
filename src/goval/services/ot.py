"""The ``ot`` service (protocol.md §5): collaborative editing of one linked file per channel.

Owns the wire side of a channel: the greeting (empty ``otstatus`` until linked, the full status
after), ``otLinkFile`` (status packet to the linker only, then ``ok``), edits (``Deferred`` ok,
released after the packet's broadcast), ``otFetchRequest``, cursors and ``flush``. The document
itself — shared by every channel linked to the path — is a ``LiveDocument`` in the server-wide
``DocumentRegistry``; its file side is ``DiskSync``.
"""

from __future__ import annotations

import asyncio

from goval._proto.api_pb2 import Command, OTFetchRequest, OTLinkFile
from goval.errors import OTError
from goval.identity import Role
from goval.services.base import Deferred, Peer, Reply, Service, ServiceContext, ok
from goval.services.fsevents import workspace_watcher
from goval.services.ot_disk import read_text
from goval.services.ot_document import LiveDocument
from goval.services.ot_registry import REGISTRY_KEY, DocumentRegistry
from goval.services.ot_wire import ops_from_wire, packet_to_wire

__all__ = ["NOT_LINKED", "OTService", "document_registry"]

NOT_LINKED = "not linked: send otLinkFile first"
# Room for the Command envelope around otFetchResponse's packets.
_ENVELOPE_BYTES = 64


def document_registry(ctx: ServiceContext) -> DocumentRegistry:
    """The server's one table of live documents (created on first use)."""

    def create() -> DocumentRegistry:
        return DocumentRegistry(ctx.resources, ctx.server, workspace_watcher(ctx))

    return ctx.server.shared(REGISTRY_KEY, create)


class OTService(Service):
    """One channel's view of one linked document."""

    name = "ot"
    min_role = Role.READ
    write_bodies = frozenset({"ot"})

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self._live: LiveDocument | None = None
        self._peers: dict[int, Peer] = {}

    async def attach(self, peer: Peer) -> None:
        self._peers[peer.session_id] = peer
        self.ctx.channel.send(peer, self._status())

    async def detach(self, peer: Peer) -> None:
        self._peers.pop(peer.session_id, None)
        if self._live is not None:
            self._live.remove_session(peer)

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "otLinkFile":
                return await self._link(peer, command.otLinkFile)
            case "ot":
                packet = command.ot
                # §5.4: the base is version - 1 when version is set, else spookyVersion.
                base = packet.version - 1 if packet.version > 0 else packet.spookyVersion
                done = self._linked().receive(base, ops_from_wire(packet.ops), packet.nonce)
                # The ok waits for the broadcast, but the channel goes on with its queue, so
                # a burst of edits shares one history append (see ot_document).
                return Deferred(asyncio.shield(done))
            case "otFetchRequest":
                return await self._fetch(command.otFetchRequest)
            case "otNewCursor":
                self._linked().set_cursor(peer, command.otNewCursor)
                return None
            case "otDeleteCursor":
                self._linked().delete_cursor(peer, command.otDeleteCursor.id)
                return None
            case "flush":
                await document_registry(self.ctx).flush(self._linked())
                return ok()
        return await super().handle(peer, command, body)

    def _linked(self) -> LiveDocument:
        if self._live is None:
            raise OTError(NOT_LINKED)
        return self._live

    # -- link (§5.5) ------------------------------------------------------------------------
    async def _link(self, peer: Peer, request: OTLinkFile) -> Command:
        workspace = self.ctx.resources.workspace
        path = workspace.clean(request.file.path, "open")
        if self._live is not None and self._live.path != path:
            raise OTError(f"already linked to {self._live.path}")
        registry = document_registry(self.ctx)
        text = await asyncio.to_thread(read_text, workspace, path, registry.max_bytes)
        linked = await registry.link(path, text, request.highConsistency)
        try:
            if linked.committed is not None:
                # The linker's status must include what the link committed (version 1 or a
                # disk diff), and the linker must not get that packet a second time.
                await asyncio.shield(linked.committed)
        finally:
            newly = self._live is None
            registry.linked(linked.live, self.ctx.channel if newly else None)
        self._live = linked.live
        # Synchronously after joining: every later packet reaches the peer by broadcast.
        self.ctx.channel.send(peer, _link_packet(linked.live))
        return ok()

    def _status(self) -> Command:
        command = Command()
        status = command.otstatus
        status.SetInParent()
        live = self._live
        if live is None:
            return command
        published = live.published
        status.contents = str(published.text)
        status.version = published.version
        status.linkedFile.path = live.path
        status.cursors.extend(live.cursors())
        return command

    # -- fetch (§5.7) -----------------------------------------------------------------------
    async def _fetch(self, request: OTFetchRequest) -> Command:
        live = self._linked()
        await live.wait_settled()  # only packets every session has been sent
        packets = live.document.fetch(request.versionFrom, request.versionTo)
        reply = Command()
        response = reply.otFetchResponse
        response.SetInParent()
        budget = self.ctx.resources.max_message - _ENVELOPE_BYTES
        size = 0
        for packet in packets:
            wire = response.packets.add()
            packet_to_wire(packet, wire)
            size += wire.ByteSize() + 6  # tag and length prefix of the repeated field
            if size > budget:
                raise OTError("fetch range too large")
        return reply

    async def aclose(self) -> None:
        live, self._live = self._live, None
        if live is None:
            return
        for peer in self._peers.values():
            live.remove_session(peer)
        await document_registry(self.ctx).release(live, self.ctx.channel)


def _link_packet(live: LiveDocument) -> Command:
    """§5.5 step 4: the whole text as one insert at the current version, to the linker."""
    published = live.published
    command = Command()
    packet = command.ot
    packet.spookyVersion = published.version
    packet.version = published.version
    if len(published.text):
        packet.ops.add(insert=str(published.text))
    packet.crc32 = published.text.crc32()
    packet.committed.seconds = published.committed_ns // 1_000_000_000
    packet.committed.nanos = published.committed_ns % 1_000_000_000
    return command
