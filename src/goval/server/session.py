"""One WebSocket session: its protocol state, identity and bounded outbound queue.

Owns the socket's two directions. Inbound frames go through ``protocol.Connection`` and the
resulting events to the router; outbound commands are encoded once and queued as frames for a
single writer task. The queue is bounded in bytes (design.md principle 5): over the budget the
session is *lagging* (producers may drop or pause for it), over the budget for ``lag_timeout`` or
over the hard limit it is closed with 1013 — it never slows other sessions or grows unbounded.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from goval._proto.api_pb2 import Command
from goval.identity import Identity
from goval.protocol.codec import encode
from goval.protocol.connection import CloseCode, CloseConnection, Connection, Request, Send
from goval.server.frames import FrameBatcher

if TYPE_CHECKING:
    from goval.server.config import ServerConfig
    from goval.server.router import Router
    from goval.server.vcr import Recorder

__all__ = ["Session"]

log = logging.getLogger("goval.session")
CLOSE_TIMEOUT = 2.0


class Session:
    """A connected client. Implements the services' ``Peer`` port."""

    def __init__(
        self,
        session_id: int,
        identity: Identity,
        ws: web.WebSocketResponse,
        config: ServerConfig,
        transport: asyncio.Transport | None = None,
    ) -> None:
        self.connection = Connection(session_id, config.max_message)
        self._batcher = FrameBatcher(ws, transport)
        self._identity = identity
        self._ws = ws
        self._config = config
        self._frames: collections.deque[bytes] = collections.deque()
        self._queued_bytes = 0
        self._wakeup = asyncio.Event()
        self._flush_scheduled = False
        self._writer_busy = False
        self._writable = asyncio.Event()
        self._writable.set()
        self._lag_timer: asyncio.TimerHandle | None = None
        self._writer: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.bytes_out = 0
        self.frames_out = 0
        self.bytes_in = 0
        self.frames_in = 0
        self.frames_dropped = 0
        # Set by startVCR (server/vcr.py); None keeps the hot paths to one attribute test.
        self.recorder: Recorder | None = None
        self.connected_at = time.monotonic()

    # -- Peer port -------------------------------------------------------------------------
    @property
    def session_id(self) -> int:
        return self.connection.session_id

    @property
    def identity(self) -> Identity:
        return self._identity

    @identity.setter
    def identity(self, identity: Identity) -> None:
        self._identity = identity

    @property
    def lagging(self) -> bool:
        return not self._writable.is_set()

    async def wait_writable(self) -> None:
        await self._writable.wait()

    # -- outbound ----------------------------------------------------------------------------
    def send(self, command: Command) -> None:
        """Queue a command addressed to this session alone (stamps ``session``)."""
        self.send_frame(encode(self.connection.stamp(command)))

    def send_frame(self, frame: bytes) -> None:
        """Queue an already-encoded frame (broadcasts are encoded once for all recipients)."""
        if self.closed.is_set() or self.close_code is not None:
            return
        if self.recorder is not None:
            self.recorder.outbound(frame)
        self._frames.append(frame)
        self._queued_bytes += len(frame)
        if not self._flush_scheduled and not self._writer_busy:
            # Everything queued during this loop iteration goes out in one write, next iteration.
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_soon)
        if self._queued_bytes > self._config.send_queue_limit:
            self.close(CloseCode.TRY_AGAIN_LATER, "outbound queue limit exceeded")
        elif self._queued_bytes > self._config.send_budget and self._writable.is_set():
            self._writable.clear()
            loop = asyncio.get_running_loop()
            self._lag_timer = loop.call_later(self._config.lag_timeout, self._lagged_too_long)

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    def _lagged_too_long(self) -> None:
        self.close(CloseCode.TRY_AGAIN_LATER, "outbound budget exceeded")

    def _drained(self, size: int) -> None:
        self._queued_bytes -= size
        if self._queued_bytes <= self._config.send_budget and not self._writable.is_set():
            self._writable.set()
            if self._lag_timer is not None:
                self._lag_timer.cancel()
                self._lag_timer = None

    def _flush_soon(self) -> None:
        """Write what is queued without a task switch while the socket takes it; else wake the
        writer task, which waits for the socket to drain."""
        self._flush_scheduled = False
        if self._writer_busy or self.close_code is not None:
            return
        while self._frames and self._batcher.can_write_now():
            batch = self._take_batch()
            try:
                self._batcher.write_now(batch)
            except ConnectionError:
                self._frames.clear()
                return
            self._sent(batch)
        if self._frames:
            self._writer_busy = True
            self._wakeup.set()

    def _sent(self, batch: list[bytes]) -> None:
        size = sum(len(frame) for frame in batch)
        self.bytes_out += size
        self.frames_out += len(batch)
        self._drained(size)

    async def _write_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            self._writer_busy = True
            try:
                while self._frames:
                    batch = self._take_batch()
                    await self._batcher.send(batch)
                    self._sent(batch)
            finally:
                self._writer_busy = False

    def _take_batch(self, max_bytes: int = 256 * 1024) -> list[bytes]:
        """Queued frames for one socket write: at least one, then up to ``max_bytes``."""
        batch = [self._frames.popleft()]
        size = len(batch[0])
        while self._frames and size + len(self._frames[0]) <= max_bytes:
            frame = self._frames.popleft()
            batch.append(frame)
            size += len(frame)
        return batch

    # -- lifecycle --------------------------------------------------------------------------
    def close(self, code: int, reason: str) -> None:
        """Close the socket soon with ``code`` (idempotent); queued frames are dropped."""
        if self.close_code is not None:
            return
        self.close_code = code
        log.info("session %d closing: %d %s", self.session_id, code, reason)
        self.frames_dropped += len(self._frames)
        self._frames.clear()
        self._queued_bytes = 0
        self._writable.set()
        asyncio.get_running_loop().create_task(self._close_socket(code, reason))

    async def _close_socket(self, code: int, reason: str) -> None:
        if self._writer is not None:
            self._writer.cancel()
        try:
            await asyncio.wait_for(
                self._ws.close(code=code, message=reason.encode(), drain=False), CLOSE_TIMEOUT
            )
        except (TimeoutError, ConnectionError):
            pass
        finally:
            self.closed.set()

    async def flush(self, timeout: float) -> None:
        """Wait until everything queued has been written (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while self._frames and time.monotonic() < deadline and self.close_code is None:
            await asyncio.sleep(0.01)

    async def run(self, router: Router) -> None:
        """Serve the socket until it closes: handshake, then read frames."""
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        for command in self.connection.handshake():
            self.send_frame(encode(command))
        router.session_ready(self)
        try:
            await self._read_loop(router)
        finally:
            if self._writer is not None:
                self._writer.cancel()
            if self.recorder is not None:
                self.recorder.flush()
            await router.session_lost(self)
            self.closed.set()

    async def _read_loop(self, router: Router) -> None:
        async for message in self._ws:
            if self.close_code is not None:
                break
            if message.type == WSMsgType.BINARY:
                self.frames_in += 1
                self.bytes_in += len(message.data)
                if self.recorder is not None:
                    self.recorder.inbound(message.data)
                event = self.connection.receive(message.data)
            elif message.type == WSMsgType.TEXT:
                event = self.connection.receive_text()
            else:
                break
            if isinstance(event, Send):
                self.send(event.command)
            elif isinstance(event, Request):
                await router.handle_request(self, event.command, event.body)
            elif isinstance(event, CloseConnection):
                self.close(event.code, event.reason)
                await self.closed.wait()
                break
