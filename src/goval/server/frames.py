"""Writing many outbound WebSocket frames with one socket write.

A burst (an OT broadcast, a chat fan-out, coalesced terminal output) queues several frames for
one session; sending each through aiohttp costs one ``send()`` syscall per frame, which profiling
showed to be the largest per-message cost. Server frames are unmasked, so framing them is a few
header bytes: :class:`FrameBatcher` frames a whole batch and hands it to the transport at once.
With permessage-deflate on, frames must be compressed, so it falls back to aiohttp's writer.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence

from aiohttp import web

__all__ = ["FrameBatcher", "binary_frame_header"]

# Above this much unsent data in the kernel-side buffer, wait before writing more.
HIGH_WATER = 1 << 20
OPCODE_BINARY_FIN = 0x82


def binary_frame_header(length: int) -> bytes:
    """RFC 6455 header of one final, unmasked binary frame carrying ``length`` bytes."""
    if length < 126:
        return bytes((OPCODE_BINARY_FIN, length))
    if length < 1 << 16:
        return struct.pack("!BBH", OPCODE_BINARY_FIN, 126, length)
    return struct.pack("!BBQ", OPCODE_BINARY_FIN, 127, length)


class FrameBatcher:
    """Sends a batch of binary frames on one WebSocket, one transport write per batch."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None) -> None:
        self._ws = ws
        # Raw writes are only valid without compression (the extension changes every frame).
        self._transport = transport if not ws.compress else None

    def can_write_now(self) -> bool:
        """True when :meth:`write_now` may be used: raw framing, socket open and not backed up."""
        transport = self._transport
        return (
            transport is not None
            and not transport.is_closing()
            and transport.get_write_buffer_size() <= HIGH_WATER
        )

    def write_now(self, frames: Sequence[bytes]) -> None:
        """Frame and hand a batch to the transport at once (only when :meth:`can_write_now`)."""
        if self._transport is None or self._transport.is_closing():
            raise ConnectionResetError("socket closed")
        parts: list[bytes] = []
        for frame in frames:
            parts.append(binary_frame_header(len(frame)))
            parts.append(frame)
        self._transport.write(b"".join(parts))

    async def send(self, frames: Sequence[bytes]) -> None:
        """Send a batch, waiting for the socket to drain (the slow path)."""
        if self._transport is None:
            for frame in frames:
                await self._ws.send_bytes(frame)
            return
        self.write_now(frames)
        await self._wait_drained()

    async def _wait_drained(self) -> None:
        """Back-pressure: let the kernel take the data before queueing more behind it."""
        delay = 0.0005
        assert self._transport is not None
        while self._transport.get_write_buffer_size() > HIGH_WATER:
            if self._transport.is_closing():
                raise ConnectionResetError("socket closed")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.02)
