"""Keeping a live OT document and its file in step (protocol.md §5.9, §5.10).

Owns, per document: the **last synced text** (what goval last wrote to or read from the file,
and the version whose text it is), the debounced writer (the text reaches the file at most
``write_delay`` after an accepted op, and at once on flush, unload and shutdown), reading the
file back after a change on disk (a code-point diff against the synced text, committed like a
client op based on the synced version, so unwritten edits are merged), and the removed state
(a removed file pauses writes and is announced once). One lock orders writes and reads of the
file, so goval's own writes read back as "no change" and are never echoed.
It must not decide which channels exist (``ot``) or how packets are stored (``ot_document``).
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable, Coroutine
from typing import Any

from goval._proto.api_pb2 import Command
from goval.errors import FileError
from goval.ot import Packet, Text, diff
from goval.services.ot_document import LiveDocument
from goval.storage import Workspace

__all__ = ["DiskSync", "read_text", "synced_base"]

log = logging.getLogger("goval.ot")

Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]
_GONE = (FileError.NOT_FOUND, FileError.NOT_A_DIRECTORY, FileError.IS_A_DIRECTORY)


def read_text(workspace: Workspace, path: str, max_bytes: int) -> str:
    """The file's text for linking (§5.5 step 2).

    Raises:
        FileError: ``open <p>: no such file or directory``, ``read <p>: is a directory``,
            ``read <p>: file too large``, ``read <p>: invalid UTF-8``.
    """
    data = workspace.read(path, max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FileError("read", path, FileError.INVALID_UTF8) from None


def synced_base(history: list[Packet], current: str, disk_text: str) -> tuple[str, int]:
    """The last synced (text, version) of a document loaded from its history (§5.9).

    Normally the file holds the newest version. After a crash between an acknowledged edit and
    the file write, it holds an older version of ours: then that version is the synced one, so
    the file counts as unchanged and the newer edits are written to it, not reverted by a diff.
    Versions are matched by their CRC-32, then confirmed by replaying the history.
    """
    if not history or disk_text == current:
        return current, len(history)
    crc = zlib.crc32(disk_text.encode("utf-8"))
    for packet in reversed(history):
        if packet.crc32 == crc:
            text = Text()
            for earlier in history[: packet.version]:
                text = text.apply(earlier.ops)
            if str(text) == disk_text:
                return disk_text, packet.version
    return current, len(history)


class DiskSync:
    """The file side of one live document."""

    def __init__(
        self,
        live: LiveDocument,
        workspace: Workspace,
        spawn: Spawn,
        *,
        synced: tuple[str, int],
        write_delay: float = 0.5,
    ) -> None:
        self.live = live
        self.workspace = workspace
        self.write_delay = write_delay
        self.synced_text, self.synced_version = synced
        self.removed = False
        self._spawn = spawn
        self._durable = False  # whether the synced text was fsynced
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._checking: asyncio.Task[None] | None = None
        self._recheck = False
        live.on_commit = self._schedule_write

    @property
    def unwritten(self) -> bool:
        return self.live.version != self.synced_version

    # -- the file changed (or was read for a link) ------------------------------------------
    async def absorb(self, text: str) -> asyncio.Future[None] | None:
        """Take ``text``, just read from the file, into the document (§5.5 step 3, §5.9).

        Returns the commit's broadcast future, or None when the text is the synced one.
        """
        async with self._lock:
            self.removed = False
            done = await self._absorb(text)
            if self.unwritten:
                self._schedule_write()
            return done

    async def _absorb(self, text: str) -> asyncio.Future[None] | None:
        if text == self.synced_text:
            return None
        base, base_text = self.synced_version, self.synced_text
        op = await asyncio.to_thread(diff, base_text, text)  # may take ~0.1 s on big files
        done = self.live.receive_disk(base, op)
        if self.live.version == base + 1:
            # Nothing was committed since the synced version: the document is the file's text.
            self._synced(text, base + 1, durable=False)
        else:
            # Unwritten edits were merged: the file must get the merged text, now, before
            # another read of the file could diff the same change again.
            await self._write(durable=False)
        return done

    def request_check(self) -> None:
        """The watcher saw a change at (or above) the path: read the file again soon."""
        if self._checking is not None:
            self._recheck = True
            return
        self._checking = self._spawn(self._check_loop(), f"ot-check {self.live.path}")

    async def _check_loop(self) -> None:
        try:
            self._recheck = True
            while self._recheck:
                self._recheck = False
                await self.check()
        finally:
            self._checking = None

    async def check(self) -> None:
        """Read the file: a removal is announced, new valid text is absorbed."""
        async with self._lock:
            try:
                data = await asyncio.to_thread(
                    self.workspace.read, self.live.path, self.live.max_bytes
                )
            except FileError as exc:
                if exc.reason in _GONE:
                    self._mark_removed()
                return  # too large or unreadable: ignored until it is usable again
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                return  # §5.9: non-UTF-8 content is ignored until valid
            self.removed = False
            await self._absorb(text)
            if self.unwritten:
                self._schedule_write()

    def _mark_removed(self) -> None:
        if self.removed:
            return
        self.removed = True
        self._cancel_timer()
        command = Command()
        command.error = f"linked file {self.live.path} was removed"
        self.live.forward(command)

    # -- writing ----------------------------------------------------------------------------
    def _schedule_write(self) -> None:
        # A throttle, not a debounce: continuous typing still reaches the file every
        # ``write_delay`` seconds (§5.10: at most 1 s after the last accepted op).
        if self._timer is None and not self.removed:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.write_delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._spawn(self.write(), f"ot-write {self.live.path}")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def write(self, durable: bool = False) -> None:
        """Write the committed text now if the file lacks it (``durable``: and fsync it)."""
        async with self._lock:
            await self._write(durable)

    async def _write(self, durable: bool) -> None:
        self._cancel_timer()
        if self.removed:
            return  # §5.9: nothing recreates a removed file
        version = self.live.version
        if version == self.synced_version and (self._durable or not durable):
            return
        text = str(self.live.document.text)
        await asyncio.to_thread(_write_file, self.workspace, self.live.path, text, durable)
        self._synced(text, version, durable)

    def _synced(self, text: str, version: int, durable: bool) -> None:
        self.synced_text, self.synced_version, self._durable = text, version, durable

    def close(self) -> None:
        """Stop the pending timer (the document is unloaded)."""
        self._cancel_timer()


def _write_file(workspace: Workspace, path: str, text: str, durable: bool) -> None:
    workspace.write(path, text.encode("utf-8"), durable=durable)
