"""A live channel: one service instance, its attached sessions, and its command worker.

Everything a service does happens on one worker task per channel, in arrival order: attaches
(greetings), commands, detaches and the final ``aclose``. That makes each service single-threaded
with respect to its own channel and keeps ``openChanRes`` → greeting → replies in order. Refs,
roles and errors are handled here so services never see them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from goval._proto.api_pb2 import Command
from goval.errors import GovalError
from goval.protocol.channels import Channel
from goval.protocol.codec import encode
from goval.protocol.connection import broadcast_stamp
from goval.services.base import Deferred, Peer, Reply, Service, ok
from goval.services.metrics_registry import Histogram

if TYPE_CHECKING:
    from goval.server.session import Session

__all__ = ["LiveChannel", "error_text"]

log = logging.getLogger("goval.channel")


def error_text(exc: BaseException) -> str:
    """The one translation of an exception into the wire ``error`` text (design.md §4)."""
    if isinstance(exc, GovalError):
        return str(exc)
    log.error("internal error", exc_info=exc)
    return f"internal error: {type(exc).__name__}"


@dataclass(frozen=True)
class _Attach:
    session: Session


@dataclass(frozen=True)
class _Detach:
    session: Session


@dataclass(frozen=True)
class _Command:
    session: Session
    command: Command
    body: str


class _Close:
    pass


_Item = _Attach | _Detach | _Command | _Close


class LiveChannel:
    """Runs one service for one channel. Implements the services' ``ChannelPort``."""

    def __init__(self, channel: Channel, latency: Histogram | None = None) -> None:
        self.channel = channel
        self._latency = latency
        self._latency_labels = (("service", channel.service),)
        self.service: Service | None = None
        self._peers: dict[int, Session] = {}
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._deferred: set[asyncio.Task[None]] = set()
        self.idle_timer: asyncio.TimerHandle | None = None
        self.closed = asyncio.Event()

    def start(self, service: Service) -> None:
        self.service = service
        self._worker = asyncio.get_running_loop().create_task(
            self._work(), name=f"channel-{self.channel.id}-{self.channel.service}"
        )

    # -- ChannelPort ------------------------------------------------------------------------
    @property
    def id(self) -> int:
        return self.channel.id

    @property
    def name(self) -> str:
        return self.channel.name

    def peers(self) -> list[Peer]:
        return list(self._peers.values())

    def send(self, peer: Peer, command: Command) -> None:
        session = self._peers.get(peer.session_id)
        if session is not None:
            command.channel = self.channel.id
            session.send(command)

    def broadcast(self, command: Command, exclude: Peer | None = None) -> None:
        excluded = None if exclude is None else exclude.session_id
        command.channel = self.channel.id
        command.session = broadcast_stamp(excluded)
        frame = encode(command)
        for session_id, session in list(self._peers.items()):
            if session_id != excluded:
                session.send_frame(frame)

    # -- router side ------------------------------------------------------------------------
    def attach(self, session: Session) -> None:
        self._queue.put_nowait(_Attach(session))

    def detach(self, session: Session) -> None:
        """Stop sending to the session now; the service's detach effects run in order."""
        self._peers.pop(session.session_id, None)
        self._queue.put_nowait(_Detach(session))

    def start_idle_timer(self, timeout: float, reap: Callable[[int], None]) -> None:
        """Destroy the channel after ``timeout`` seconds with nobody attached (§2.6)."""
        self.cancel_idle_timer()
        self.idle_timer = asyncio.get_running_loop().call_later(timeout, reap, self.channel.id)

    def cancel_idle_timer(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None

    def dispatch(self, session: Session, command: Command, body: str) -> None:
        self._queue.put_nowait(_Command(session, command, body))

    def destroy(self) -> None:
        """Stop taking traffic and close the service after what is already queued."""
        self.cancel_idle_timer()
        self._peers.clear()
        self._queue.put_nowait(_Close())

    async def wait_closed(self) -> None:
        await self.closed.wait()

    # -- worker -----------------------------------------------------------------------------
    async def _work(self) -> None:
        assert self.service is not None
        # Sessions whose attach ran, so a detach queued before its attach undoes nothing.
        attached: set[int] = set()
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, _Close):
                    await self._close_service()
                    return
                if isinstance(item, _Attach):
                    if self.channel.id in item.session.connection.held:
                        attached.add(item.session.session_id)
                        self._peers[item.session.session_id] = item.session
                        await self.service.attach(item.session)
                elif isinstance(item, _Detach):
                    if item.session.session_id in attached:
                        attached.discard(item.session.session_id)
                        await self.service.detach(item.session)
                elif item.session.session_id in self._peers:
                    await self._handle(item.session, item.command, item.body)
            except Exception as exc:
                log.error("channel %d: service failed", self.channel.id, exc_info=exc)

    async def _close_service(self) -> None:
        assert self.service is not None
        for task in list(self._deferred):
            task.cancel()
        try:
            await self.service.aclose()
        except Exception as exc:
            log.error("channel %d: aclose failed", self.channel.id, exc_info=exc)
        finally:
            self.closed.set()

    async def _handle(self, session: Session, command: Command, body: str) -> None:
        assert self.service is not None
        started = time.perf_counter()
        try:
            self.service.check_role(session.identity.role, body)
            reply: Reply = await self.service.handle(session, command, body)
        except Exception as exc:
            self._reply(session, command.ref, Command(error=error_text(exc)))
            return
        if isinstance(reply, Deferred):
            waiting = self._await(session, command.ref, reply, started)
            task = asyncio.get_running_loop().create_task(waiting)
            self._deferred.add(task)
            task.add_done_callback(self._deferred.discard)
            return
        if reply is not None:
            self._reply(session, command.ref, reply)
        elif command.ref:
            self._reply(session, command.ref, ok())
        self._observe(started)

    def _observe(self, started: float) -> None:
        if self._latency is not None:
            self._latency.observe(time.perf_counter() - started, self._latency_labels)

    async def _await(self, session: Session, ref: str, deferred: Deferred, started: float) -> None:
        try:
            reply = await deferred.reply
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reply = Command(error=error_text(exc))
        if reply is None:
            reply = ok() if ref else None
        if reply is not None:
            self._reply(session, ref, reply)
        self._observe(started)

    def _reply(self, session: Session, ref: str, reply: Command) -> None:
        """The final reply: to the requester only, with the ref, if it still holds the channel."""
        if session.session_id in self._peers:
            reply.channel = self.channel.id
            reply.ref = ref
            session.send(reply)
