"""A client-side channel: requests matched by ref, and the pushes that arrive on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from goval._proto.api_pb2 import Command

if TYPE_CHECKING:
    from goval.client.connection import Client

__all__ = ["Channel", "ChannelClosed", "ServerError"]


class ServerError(Exception):
    """The server answered a request with ``error``; ``text`` is its exact text."""

    def __init__(self, text: str, reply: Command) -> None:
        super().__init__(text)
        self.text = text
        self.reply = reply


class ChannelClosed(Exception):
    """The channel is closed (by us, by the server, or it died with its connection)."""


class Channel:
    """One open channel. Iterate it (or call :meth:`receive`) for pushes."""

    def __init__(self, client: Client, channel_id: int, service: str, name: str) -> None:
        self._client = client
        self.id = channel_id
        self.service = service
        self.name = name
        self.closed = False
        self._pushes: asyncio.Queue[Command | None] = asyncio.Queue()

    def __repr__(self) -> str:
        return f"<Channel {self.id} {self.service} {self.name!r}>"

    def send(self, command: Command) -> None:
        """Fire and forget (no ref)."""
        if self.closed:
            raise ChannelClosed(f"channel {self.id} is closed")
        command.channel = self.id
        self._client.send_raw(command)

    async def request(self, command: Command, *, check: bool = True) -> Command:
        """Send with a fresh ref and wait for the reply with that ref.

        With ``check`` (the default) an ``error`` reply raises :class:`ServerError`.
        """
        if self.closed:
            raise ChannelClosed(f"channel {self.id} is closed")
        command.channel = self.id
        reply = await self._client.exchange(command)
        if check and reply.WhichOneof("body") == "error":
            raise ServerError(reply.error, reply)
        return reply

    async def receive(self, timeout: float | None = 10.0) -> Command:
        """The next push on this channel; raises ChannelClosed when it closes."""
        item = await asyncio.wait_for(self._pushes.get(), timeout)
        if item is None:
            self._pushes.put_nowait(None)  # stay closed for later callers
            raise ChannelClosed(f"channel {self.id} is closed")
        return item

    async def receive_until(self, body: str, timeout: float = 10.0) -> list[Command]:
        """Pushes up to and including the first with ``body``."""
        seen: list[Command] = []
        async with asyncio.timeout(timeout):
            while True:
                command = await self.receive(timeout=None)
                seen.append(command)
                if command.WhichOneof("body") == body:
                    return seen

    def drain(self) -> list[Command]:
        """Pushes already received, without waiting."""
        items = []
        while not self._pushes.empty():
            item = self._pushes.get_nowait()
            if item is None:
                self._pushes.put_nowait(None)
                break
            items.append(item)
        return items

    def __aiter__(self) -> AsyncIterator[Command]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Command]:
        while True:
            try:
                yield await self.receive(timeout=None)
            except ChannelClosed:
                return

    async def aclose(self) -> Command | None:
        """TRY_CLOSE this channel and wait for closeChanRes (returns it)."""
        if self.closed:
            return None
        reply = await self._client.close_channel(self)
        self.mark_closed()
        return reply

    # -- client side ------------------------------------------------------------------------
    def push(self, command: Command) -> None:
        self._pushes.put_nowait(command)

    def mark_closed(self) -> None:
        if not self.closed:
            self.closed = True
            self._pushes.put_nowait(None)
