"""Client-side OT sync: a local copy of one linked file kept in step with the server (§5).

``SyncedDocument`` drives ``goval.ot.ClientDocument`` (one op in flight, later edits buffered,
incoming packets transformed) over an ``ot`` channel: it links the file, applies local edits at
once and sends them, applies everyone's packets in version order, and after a reconnect (a new
greeting on the re-opened channel) fetches the versions it missed with ``otFetchRequest`` —
relinking first if the server lost the channel — and resends an op the server never committed.
Used by tests and by ``goval edit`` / ``goval watch``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Iterable, Sequence

from goval._proto.api_pb2 import Command, OTCursor, OTPacket, OTRuneTransformOp
from goval.client.channel import Channel, ChannelClosed, ServerError
from goval.client.connection import Client, ConnectionLost
from goval.errors import OTError
from goval.ot import ClientDocument, Component, Delete, Op, Outgoing, diff

__all__ = ["Listener", "SyncedDocument"]

# Called with (op applied to the local text, whether it came from someone else).
Listener = Callable[[Op, bool], None]


def _ops_from_wire(wire: Iterable[OTRuneTransformOp]) -> Op:
    ops: Op = []
    for c in wire:
        kind = c.WhichOneof("op")
        ops.append(
            c.insert if kind == "insert" else Delete(c.delete) if kind == "delete" else c.skip
        )
    return ops


def _ops_to_wire(ops: Sequence[Component], packet: OTPacket) -> None:
    for c in ops:
        if isinstance(c, Delete):
            packet.ops.add(delete=c.n)
        elif isinstance(c, str):
            packet.ops.add(insert=c)
        else:
            packet.ops.add(skip=c)


class SyncedDocument:
    """One file's text, synchronised with the server's document of it."""

    def __init__(self, channel: Channel, path: str, high_consistency: bool = False) -> None:
        self.channel = channel
        self.path = path
        self.high_consistency = high_consistency
        self.doc = ClientDocument()
        self.cursors: dict[str, OTCursor] = {}
        self.errors: list[str] = []
        self.listeners: list[Listener] = []
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._fresh = True  # nothing received yet: the first status sets the text
        self._lost_send = False  # an op's request died with the connection

    @classmethod
    async def open(
        cls, client: Client, path: str, *, high_consistency: bool = False
    ) -> SyncedDocument:
        """Open ``ot:<path>`` (ATTACH_OR_CREATE), link the file and start following it."""
        channel = await client.open("ot", f"ot:{path}")
        synced = cls(channel, path, high_consistency)
        await synced.start()
        return synced

    async def start(self) -> None:
        """Read the greeting, link if needed, then follow the channel in the background."""
        await self._sync(await self.channel.receive())
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def aclose(self) -> None:
        """Stop following (the channel stays open; close it separately)."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        for task in list(self._sends):
            task.cancel()

    # -- state ------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        return self.doc.text

    @property
    def version(self) -> int:
        return self.doc.version

    @property
    def pending(self) -> bool:
        """Whether local edits are not yet acknowledged by the server."""
        return self.doc.inflight is not None or self.doc.buffer is not None

    def crc32(self) -> int:
        return self.doc.crc32()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds (re-checked after every change)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate() or bool(self.errors))
        if self.errors and not predicate():
            raise OTError(f"sync failed: {self.errors[-1]}")

    async def wait_version(self, version: int, timeout: float = 10.0) -> None:
        await self.wait_until(lambda: self.doc.version >= version, timeout)

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every local edit is acknowledged."""
        await self.wait_until(lambda: not self.pending, timeout)

    # -- local edits ------------------------------------------------------------------------
    def edit(self, op: Sequence[Component]) -> None:
        """Apply a local edit now and send it (or buffer it behind the op in flight)."""
        outgoing = self.doc.local_edit(op)
        for listener in self.listeners:
            listener(list(op), False)
        if outgoing is not None:
            self._send(outgoing)

    def replace(self, text: str) -> None:
        """Make the local text ``text`` by sending the code-point diff."""
        op = diff(self.doc.text, text)
        if op:
            self.edit(op)

    def set_cursor(self, cursor_id: str, position: int, start: int = 0, end: int = 0) -> None:
        command = Command()
        cursor = command.otNewCursor
        cursor.id, cursor.position = cursor_id, position
        cursor.selectionStart, cursor.selectionEnd = start, end
        self.channel.send(command)

    def _send(self, outgoing: Outgoing) -> None:
        command = Command()
        packet = command.ot
        packet.spookyVersion = outgoing.base
        packet.version = outgoing.base + 1
        packet.nonce = random.getrandbits(31) + 1
        _ops_to_wire(outgoing.ops, packet)
        task = asyncio.get_running_loop().create_task(self._request(command))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _request(self, command: Command) -> None:
        try:
            await self.channel.request(command)
        except ServerError as exc:
            await self._failed(exc.text)
        except (ConnectionLost, ChannelClosed):
            self._lost_send = True  # the reconnect's resync resends it if it was not committed

    async def _failed(self, text: str) -> None:
        async with self._changed:
            self.errors.append(text)
            self._changed.notify_all()

    # -- incoming ---------------------------------------------------------------------------
    async def _read(self) -> None:
        try:
            async for command in self.channel:
                await self._dispatch(command)
        except (OTError, ServerError) as exc:
            await self._failed(str(exc))

    async def _dispatch(self, command: Command) -> None:
        body = command.WhichOneof("body")
        if body == "ot":
            await self._packet(command.ot)
        elif body == "otstatus":  # a new greeting: we reconnected
            await self._sync(command)
        elif body == "otNewCursor":
            self.cursors[command.otNewCursor.id] = command.otNewCursor
        elif body == "otDeleteCursor":
            self.cursors.pop(command.otDeleteCursor.id, None)
        elif body == "error":
            await self._failed(command.error)

    async def _packet(self, packet: OTPacket) -> None:
        if packet.version <= self.doc.version:
            return  # already had it (a fetch overlapping the broadcasts)
        received = self.doc.server_packet(packet.version, _ops_from_wire(packet.ops), packet.crc32)
        if received.send is not None:
            self._send(received.send)
        if received.apply:
            for listener in self.listeners:
                listener(received.apply, True)
        async with self._changed:
            self._changed.notify_all()

    # -- (re)synchronisation ----------------------------------------------------------------
    async def _sync(self, greeting: Command) -> None:
        status = greeting.otstatus
        if status.linkedFile.path:
            await self._catch_up(status.version, status.contents)
            return
        link = Command()
        link.otLinkFile.file.path = self.path
        link.otLinkFile.highConsistency = self.high_consistency
        await self.channel.request(link)
        # The status packet reached the channel before the ok (§5.5 steps 4–5).
        packet = (await self.channel.receive_until("ot"))[-1].ot
        contents = packet.ops[0].insert if packet.ops else ""
        await self._catch_up(packet.version, contents)

    async def _catch_up(self, version: int, contents: str) -> None:
        if self._fresh:
            self._fresh = False
            self.doc = ClientDocument(contents, version)
        elif version < self.doc.version:
            raise OTError(f"server is at version {version}, behind ours ({self.doc.version})")
        elif version > self.doc.version:
            fetch = Command()
            fetch.otFetchRequest.versionFrom = self.doc.version + 1
            fetch.otFetchRequest.versionTo = version
            reply = await self.channel.request(fetch)
            for packet in reply.otFetchResponse.packets:
                await self._packet(packet)
        if self._lost_send and self.doc.inflight is not None:
            # Not in the history up to now: the server never committed it. Send it again.
            self._send(Outgoing(self.doc.version, self.doc.inflight))
        self._lost_send = False
        async with self._changed:
            self._changed.notify_all()
