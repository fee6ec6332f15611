"""``connect()`` and :class:`Client`: one WebSocket to a goval server, its channels, reconnects.

The client speaks only the wire protocol (it never imports the server). A reader task routes
frames: replies to the waiting request by ref, pushes to their channel, channel-0 notices to
``client.notices``. After READY, a lost socket is reconnected (unless closed by us or with 1000)
and every named channel is re-opened with ATTACH_OR_CREATE, as the official client does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import urllib.parse
from collections.abc import AsyncIterator

import aiohttp

from goval._proto.api_pb2 import CloseChannel, Command, ContainerState, OpenChannel, OpenChannelRes
from goval.client.channel import Channel, ServerError

__all__ = ["ChannelOpenError", "Client", "ConnectionLost", "connect", "websocket_url"]

log = logging.getLogger("goval.client")
NO_RECONNECT_CODES = frozenset({1000, 1008})


class ConnectionLost(Exception):
    """The socket closed while a request was waiting."""


class ChannelOpenError(Exception):
    """``openChanRes`` came back with ``state: ERROR``; ``text`` is its error."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def websocket_url(url: str, token: str | None) -> str:
    """``http(s)://host:port`` or ``ws(s)://host:port[/wsv2/<token>]`` → the WebSocket URL."""
    parts = urllib.parse.urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path
    if token is not None or not path.startswith("/wsv2/"):
        path = "/wsv2/" + urllib.parse.quote(token or "", safe="")
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, parts.query, ""))


class Client:
    """A connected goval client. Create it with :func:`connect`."""

    def __init__(self, url: str, *, reconnect: bool = True, max_message: int = 32 << 20) -> None:
        self.url = url
        self.reconnect = reconnect
        self.session_id = 0
        self.close_code: int | None = None
        self.close_reason = ""
        self.boot_stages: list[int] = []
        self.notices: asyncio.Queue[Command] = asyncio.Queue()
        self.reconnects = 0
        self._max_message = max_message
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._refs = (f"{n:x}" for n in itertools.count(1))
        self._pending: dict[str, asyncio.Future[Command]] = {}
        self._channels: dict[int, Channel] = {}
        # openChan refs awaiting openChanRes: the channel must exist before its greeting is read.
        self._opening: dict[str, Channel] = {}
        self._reader: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._closing = False
        self._ready = asyncio.Event()
        self.lost = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._http = aiohttp.ClientSession()
        await self._connect()

    async def _connect(self) -> None:
        assert self._http is not None
        self._ready.clear()
        self.lost.clear()
        self._ws = await self._http.ws_connect(
            self.url, max_msg_size=self._max_message, autoping=True
        )
        self._reader = asyncio.get_running_loop().create_task(self._read_loop(self._ws))
        ready = asyncio.ensure_future(self._ready.wait())
        done, _ = await asyncio.wait({ready, self._reader}, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            raise ConnectionLost(f"closed before READY: {self.close_code} {self.close_reason}")

    async def aclose(self) -> None:
        """Close the socket (like crosis: no closeChan) and stop."""
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._http is not None:
            await self._http.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- channels ---------------------------------------------------------------------------
    async def open(
        self, service: str, name: str | None = None, action: int | None = None
    ) -> Channel:
        """Open a channel; default action CREATE without a name, ATTACH_OR_CREATE with one."""
        if action is None:
            action = OpenChannel.ATTACH_OR_CREATE if name else OpenChannel.CREATE
        channel = Channel(self, 0, service, name or "")
        reply = await self._open_as(channel, action)
        if (
            reply.WhichOneof("body") != "openChanRes"
            or reply.openChanRes.state == OpenChannelRes.ERROR
        ):
            raise ChannelOpenError(reply.openChanRes.error or reply.error)
        return channel

    async def _open_as(self, channel: Channel, action: int) -> Command:
        """Send openChan for ``channel``; on success the reader registers it under its new id."""
        command = Command()
        command.openChan.service = channel.service
        command.openChan.name = channel.name
        command.openChan.action = OpenChannel.Action.ValueType(action)
        ref = next(self._refs)
        self._opening[ref] = channel
        try:
            return await self.exchange(command, ref)
        finally:
            self._opening.pop(ref, None)

    async def close_channel(
        self, channel: Channel, action: int = CloseChannel.TRY_CLOSE
    ) -> Command:
        command = Command()
        command.closeChan.id = channel.id
        command.closeChan.action = action  # type: ignore[assignment]
        reply = await self.exchange(command)
        self._channels.pop(channel.id, None)
        return reply

    # -- requests ---------------------------------------------------------------------------
    async def request(self, command: Command, *, check: bool = True) -> Command:
        """A channel-0 request; ``check`` raises ServerError on an ``error`` reply."""
        reply = await self.exchange(command)
        if check and reply.WhichOneof("body") == "error":
            raise ServerError(reply.error, reply)
        return reply

    async def ping(self) -> float:
        """Round-trip time of one channel-0 ping, in seconds."""
        command = Command()
        command.ping.SetInParent()
        started = time.perf_counter()
        await self.request(command)
        return time.perf_counter() - started

    async def exchange(self, command: Command, ref: str | None = None) -> Command:
        """Send with a fresh ref; the first command with that ref is the reply."""
        ref = ref or next(self._refs)
        command.ref = ref
        future: asyncio.Future[Command] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        try:
            self.send_raw(command)
            return await future
        finally:
            self._pending.pop(ref, None)

    def send_raw(self, command: Command) -> None:
        """Queue a frame as it is (tests use this for raw protocol work)."""
        self.send_bytes(command.SerializeToString())

    def send_bytes(self, data: bytes) -> None:
        if self._ws is None or self._ws.closed:
            raise ConnectionLost("not connected")
        # Tasks start in creation order, and each writes its frame before its first await,
        # so frames leave in send order. Keep a reference until done (asyncio only holds weak
        # ones) and consume a failure: a lost socket is reported by the reader, not here.
        task = asyncio.get_running_loop().create_task(self._ws.send_bytes(data))
        self._sending.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("send failed: %s", task.exception())

    # -- reading ----------------------------------------------------------------------------
    async def _read_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.BINARY:
                continue
            command = Command()
            command.ParseFromString(message.data)
            self._route(command)
        self.close_code = ws.close_code
        exception = ws.exception()
        self.close_reason = "" if exception is None else str(exception)
        self._connection_lost()

    def _route(self, command: Command) -> None:
        future = self._pending.get(command.ref) if command.ref else None
        if future is not None and not future.done():
            opening = self._opening.get(command.ref)
            result = command.openChanRes
            if (
                opening is not None
                and command.HasField("openChanRes")
                and result.state != OpenChannelRes.ERROR
            ):
                opening.id = result.id
                self._channels[result.id] = opening
            future.set_result(command)
            return
        if command.channel == 0:
            body = command.WhichOneof("body")
            if body == "bootStatus":
                self.session_id = command.session
                self.boot_stages.append(command.bootStatus.stage)
            elif body == "containerState" and command.containerState.state == ContainerState.READY:
                self.session_id = command.session
                self._ready.set()
            else:
                self.notices.put_nowait(command)
            return
        channel = self._channels.get(command.channel)
        if channel is not None:
            channel.push(command)

    def _connection_lost(self) -> None:
        was_ready = self._ready.is_set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(f"connection closed ({self.close_code})"))
        self.lost.set()
        if self._closing or not self.reconnect or not was_ready:
            self._close_all_channels()
            return
        if self.close_code in NO_RECONNECT_CODES:
            self._close_all_channels()
            return
        asyncio.get_running_loop().create_task(self._reconnect())

    def _close_all_channels(self) -> None:
        for channel in self._channels.values():
            channel.mark_closed()
        self._channels.clear()

    async def _reconnect(self) -> None:
        """Reconnect with backoff; named channels re-attach, anonymous ones are gone."""
        named = [channel for channel in self._channels.values() if channel.name]
        for channel in self._channels.values():
            if not channel.name:
                channel.mark_closed()
        self._channels.clear()
        delay = 0.05
        while not self._closing:
            try:
                await self._connect()
                break
            except (aiohttp.ClientError, ConnectionLost, OSError):
                await asyncio.sleep(delay)
                delay = min(delay * 1.7, 2.0)
        self.reconnects += 1
        for channel in named:
            await self._reopen(channel)

    async def _reopen(self, channel: Channel) -> None:
        try:
            reply = await self._open_as(channel, OpenChannel.ATTACH_OR_CREATE)
        except ConnectionLost:
            return
        if reply.openChanRes.state == OpenChannelRes.ERROR:
            channel.mark_closed()


@contextlib.asynccontextmanager
async def connect(
    url: str, token: str | None = None, *, reconnect: bool = True
) -> AsyncIterator[Client]:
    """Connect, wait for READY, and close on exit.

    ``url`` is the server's base URL (``http://host:port``) with ``token``, or a full
    ``ws://host:port/wsv2/<token>`` URL.
    """
    client = Client(websocket_url(url, token), reconnect=reconnect)
    try:
        await client.start()
        yield client
    finally:
        await client.aclose()
