"""One live OT document shared by every channel linked to its path (protocol.md §5.1, §5.6, §5.8).

Owns the commit pipeline of a loaded document: an accepted op is committed in memory at once
(``goval.ot.Document``, so later ops transform against it), then its packet is appended to the
history store and only then broadcast to the document's sessions, and only then is the sender's
``ok`` released. Packets committed in one burst are appended in one transaction (group commit):
a drain task runs after the channel workers have handled what is queued, so ten editors cost
one SQLite commit, not ten. Every other push (cursor forwards, the removed-file error) goes
through the same ordered outbox, so a session sees pushes in commit order.

Durability: every packet is in the history store (SQLite WAL) before anyone sees it, which
survives ``kill -9``; a high-consistency document appends with ``synchronous=FULL`` (fsync, off
the event loop), which also survives power loss.

``published`` is the state every session has been sent; greetings and link statuses use it, so
a session that joins while packets are in the pipeline gets each packet exactly once. It must
not touch the disk file (``ot_disk``) or the channel table (``ot``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from goval._proto.api_pb2 import Command, OTCursor, User
from goval.errors import OTError
from goval.ot import Component, Document, Packet, Text
from goval.services.base import ChannelPort, Peer, user_of
from goval.services.ot_wire import (
    cursor_command,
    cursor_from_wire,
    packet_command,
    stored_from_packet,
)
from goval.storage import OTStore

__all__ = ["MAX_DOCUMENT_BYTES", "LiveDocument", "Snapshot"]

log = logging.getLogger("goval.ot")

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024  # protocol.md §3.7
_RETRY_SECONDS = 0.5  # a failed history append is retried; nothing is broadcast meanwhile


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The document as of one version (``Text`` is immutable, so holding it is cheap)."""

    text: Text
    version: int
    committed_ns: int


@dataclass(slots=True)
class _Outgoing:
    after: int  # send once the history store holds every packet up to this version
    command: Command
    exclude: Peer | None = None
    done: asyncio.Future[None] | None = None
    snapshot: Snapshot | None = None  # for packets: the published state once sent


class LiveDocument:
    """A loaded document: text, history, cursors, linked channels and the commit pipeline."""

    def __init__(
        self,
        path: str,
        document: Document,
        store: OTStore,
        *,
        max_bytes: int = MAX_DOCUMENT_BYTES,
    ) -> None:
        self.path = path
        self.document = document
        self.store = store
        self.max_bytes = max_bytes
        self.high_consistency = False
        self.channels: list[ChannelPort] = []
        self.cursor_users: dict[str, User] = {}
        self.on_commit: Callable[[], None] | None = None  # the disk writer's schedule hook
        last = document.history[-1].committed_ns if document.history else 0
        self.published = Snapshot(document.text, document.version, last)
        self._saved = document.version
        self._unsaved: list[Packet] = []
        self._outbox: deque[_Outgoing] = deque()
        self._drainer: asyncio.Task[None] | None = None

    @property
    def version(self) -> int:
        """The committed version (may be ahead of ``published`` while the pipeline drains)."""
        return self.document.version

    # -- commits ----------------------------------------------------------------------------
    def receive(self, base: int, ops: Sequence[Component], nonce: int) -> asyncio.Future[None]:
        """Commit a client op (§5.6 steps 2–7); the future resolves once it is broadcast.

        Raises:
            OTError: bad version, op too long, or the document would outgrow its limit.
        """
        self._check_growth(ops)
        return self._publish(self.document.receive(base, ops, nonce, time.time_ns()))

    def receive_disk(self, base: int, ops: Sequence[Component]) -> asyncio.Future[None]:
        """Commit a change read from the file, as an op based on ``base`` (§5.9, nonce 0)."""
        return self._publish(self.document.receive(base, ops, 0, time.time_ns()))

    def commit_text(self, text: str) -> asyncio.Future[None]:
        """Commit the change from the current text to ``text`` (the first link, §5.4)."""
        return self._publish(self.document.commit_text(text, time.time_ns()))

    def _check_growth(self, ops: Sequence[Component]) -> None:
        added = sum(len(c.encode()) for c in ops if type(c) is str)
        text = self.document.text
        # Four bytes per code point bounds the UTF-8 size: skip the exact (O(log n)) count
        # while even that bound fits.
        if added == 0 or len(text) * 4 + added <= self.max_bytes:
            return
        size = text.utf8_length() + added
        if size > self.max_bytes:
            raise OTError(f"invalid op: document too large ({size} > {self.max_bytes} bytes)")

    def _publish(self, packet: Packet) -> asyncio.Future[None]:
        done = asyncio.get_running_loop().create_future()
        snapshot = Snapshot(self.document.text, packet.version, packet.committed_ns)
        self._unsaved.append(packet)
        self._outbox.append(_Outgoing(packet.version, packet_command(packet), None, done, snapshot))
        self._kick()
        if self.on_commit is not None:
            self.on_commit()
        return done

    def forward(self, command: Command, exclude: Peer | None = None) -> None:
        """Send a push to the document's sessions after every packet committed so far."""
        if not self._outbox:
            self._send(command, exclude)
        else:
            self._outbox.append(_Outgoing(self.document.version, command, exclude))

    # -- the pipeline -----------------------------------------------------------------------
    def _kick(self) -> None:
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(
                self._drain(), name=f"ot-drain {self.path}"
            )

    async def _drain(self) -> None:
        try:
            while self._unsaved or self._outbox:
                if self._unsaved:
                    batch, self._unsaved = self._unsaved, []
                    try:
                        await self._save(batch)
                    except Exception:
                        log.exception("ot: appending history of %s failed; retrying", self.path)
                        self._unsaved[:0] = batch
                        await asyncio.sleep(_RETRY_SECONDS)
                        continue
                    self._saved = batch[-1].version
                self._send_ready()
        finally:
            self._drainer = None

    async def _save(self, batch: list[Packet]) -> None:
        rows = [stored_from_packet(packet) for packet in batch]
        if self.high_consistency:
            await asyncio.to_thread(self.store.append, self.path, rows, True)
        else:
            # A WAL commit without fsync takes tens of microseconds: cheaper than a thread hop.
            self.store.append(self.path, rows)

    def _send_ready(self) -> None:
        outbox = self._outbox
        while outbox and outbox[0].after <= self._saved:
            item = outbox.popleft()
            self._send(item.command, item.exclude)
            if item.snapshot is not None:
                self.published = item.snapshot
            if item.done is not None and not item.done.done():
                item.done.set_result(None)

    def _send(self, command: Command, exclude: Peer | None) -> None:
        for channel in self.channels:
            channel.broadcast(command, exclude)

    async def wait_settled(self) -> None:
        """Return once every packet committed so far is stored and broadcast."""
        while self._drainer is not None:
            await asyncio.shield(self._drainer)

    @property
    def settled(self) -> bool:
        return self._drainer is None

    # -- cursors (§5.8) ---------------------------------------------------------------------
    def set_cursor(self, peer: Peer, wire: OTCursor) -> None:
        """Store the sender's cursor and forward it to the other sessions.

        Raises:
            LimitExceeded: ``too many cursors``.
        """
        user = user_of(peer)
        cursor = cursor_from_wire(wire, peer.session_id, user.id, user.name)
        stored = self.document.set_cursor(cursor)
        self.cursor_users[stored.id] = user
        self.forward(cursor_command(stored, user), exclude=peer)

    def delete_cursor(self, peer: Peer, cursor_id: str) -> None:
        """Remove the sender's own cursor and forward the deletion; others are ignored."""
        if self.document.delete_cursor(cursor_id, peer.session_id):
            self.cursor_users.pop(cursor_id, None)
            self.forward(_delete_command(cursor_id), exclude=peer)

    def remove_session(self, peer: Peer) -> None:
        """The session left: remove its cursors and tell the rest."""
        for cursor_id in self.document.remove_session_cursors(peer.session_id):
            self.cursor_users.pop(cursor_id, None)
            self.forward(_delete_command(cursor_id), exclude=peer)

    def cursors(self) -> list[OTCursor]:
        """Every stored cursor, with its owner, for statuses."""
        return [
            cursor_command(cursor, self.cursor_users.get(cursor.id)).otNewCursor
            for cursor in self.document.cursors.values()
        ]


def _delete_command(cursor_id: str) -> Command:
    command = Command()
    command.otDeleteCursor.id = cursor_id
    return command
