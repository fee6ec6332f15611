"""Non-blocking reading and writing of pipe and PTY file descriptors on the asyncio loop.

Owns the two fd loops shared by pipes and terminals: ``FdReader`` (reads up to ``READ_SIZE``
bytes per wakeup through ``add_reader``, stops while paused: that is how a pipe producer is
back-pressured) and ``FdWriter`` (buffers what the fd cannot take yet and finishes through
``add_writer``, so a child that does not read its stdin never blocks the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
from collections.abc import Callable

__all__ = ["READ_SIZE", "FdReader", "FdWriter"]

_log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
# A PTY reports the end of its slave side as EIO rather than a zero-byte read.
_EOF_ERRNOS = (errno.EIO, errno.EBADF)


class FdReader:
    """Deliver what ``fd`` yields to ``on_data`` until end of file, then call ``on_eof`` once.

    The fd is switched to non-blocking. The reader never closes it.
    """

    def __init__(
        self, fd: int, on_data: Callable[[bytes], None], on_eof: Callable[[], None]
    ) -> None:
        self._fd = fd
        self._on_data = on_data
        self._on_eof = on_eof
        self._loop = asyncio.get_running_loop()
        self._paused = False
        self._done = False
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._on_readable)

    @property
    def paused(self) -> bool:
        """True while reading is paused (the producer blocks once the kernel buffer fills)."""
        return self._paused

    @property
    def done(self) -> bool:
        """True once end of file was seen or the reader was stopped."""
        return self._done

    def pause(self) -> None:
        """Stop reading until ``resume``."""
        if not self._paused and not self._done:
            self._paused = True
            self._loop.remove_reader(self._fd)

    def resume(self) -> None:
        """Read again after ``pause``."""
        if self._paused and not self._done:
            self._paused = False
            self._loop.add_reader(self._fd, self._on_readable)

    def drain(self, budget: int = 4 * READ_SIZE) -> None:
        """Read what is available right now (up to ``budget`` bytes) without waiting."""
        while budget > 0 and not self._done:
            got = self._read_once()
            if got <= 0:
                return
            budget -= got

    def stop(self) -> None:
        """Stop for good without calling ``on_eof``."""
        if not self._done:
            self._done = True
            if not self._paused:
                self._loop.remove_reader(self._fd)

    def _on_readable(self) -> None:
        self._read_once()

    def _read_once(self) -> int:
        """One read: bytes delivered, 0 if none available, -1 at end of file."""
        try:
            data = os.read(self._fd, READ_SIZE)
        except BlockingIOError:
            return 0
        except OSError as exc:
            if exc.errno not in _EOF_ERRNOS:
                _log.warning("reading fd %d failed (%s); treating it as end of file", self._fd, exc)
            data = b""
        if not data:
            self.stop()
            self._on_eof()
            return -1
        self._on_data(data)
        return len(data)


class FdWriter:
    """Write bytes to a non-blocking fd, buffering what it cannot take yet.

    Once the other side is gone (EPIPE, EIO) further data is dropped silently: input to a
    process that has exited has nowhere to go and is not an error.
    """

    def __init__(self, fd: int, *, owns_fd: bool) -> None:
        self._fd = fd
        self._owns_fd = owns_fd
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._waiting = False
        self._closing = False
        self._broken = False
        os.set_blocking(fd, False)

    @property
    def buffered(self) -> int:
        """Bytes accepted but not yet written to the fd."""
        return len(self._buffer)

    def write(self, data: bytes) -> None:
        """Queue ``data``; it is written in order, as soon as the fd accepts it."""
        if self._broken or self._closing or not data:
            return
        self._buffer += data
        if not self._waiting:
            self._flush()

    def close(self) -> None:
        """Close the fd (if owned) once everything queued is written: the child sees EOF."""
        self._closing = True
        if not self._waiting:
            self._finish()

    def _flush(self) -> None:
        while self._buffer:
            try:
                written = os.write(self._fd, self._buffer)
            except BlockingIOError:
                break
            except OSError:
                self._broken = True
                self._buffer.clear()
                break
            del self._buffer[:written]
        if self._buffer and not self._waiting:
            self._waiting = True
            self._loop.add_writer(self._fd, self._on_writable)

    def _on_writable(self) -> None:
        self._flush()
        if not self._buffer:
            self._waiting = False
            self._loop.remove_writer(self._fd)
            if self._closing:
                self._finish()

    def _finish(self) -> None:
        if self._waiting:
            self._loop.remove_writer(self._fd)
            self._waiting = False
        self._buffer.clear()
        self._broken = True
        if self._owns_fd:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._owns_fd = False
