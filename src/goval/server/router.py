"""Sessions and channels of one server: opens, closes, dispatch, socket loss, shutdown.

The router owns the channel table and the live channels. One lock orders every open, attach and
close (protocol.md §2.2); commands on a channel go to that channel's worker. Channel-0 requests
other than open/close are answered by ``channel_zero``. Implements the services' ``ServerPort``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from goval._proto.api_pb2 import Command, ContainerState, OpenChannelRes
from goval.identity import Role
from goval.protocol.channels import ChannelTable, CloseOutcome, OpenRefused
from goval.protocol.codec import encode
from goval.server.channel import LiveChannel, error_text
from goval.server.channel_zero import ChannelZero
from goval.server.config import ServerConfig
from goval.server.server_metrics import install_server_metrics, request_histogram
from goval.server.session import Session
from goval.services.base import Resources, ServiceContext
from goval.services.facilities import ServerFacilities
from goval.services.metrics_registry import REGISTRY_KEY, MetricsRegistry
from goval.services.registry import ServiceRegistry

__all__ = ["Router"]

log = logging.getLogger("goval.router")
T = TypeVar("T")


class Router(ServerFacilities):
    """All sessions and channels of one server (``shared``/``spawn`` come from the base)."""

    def __init__(
        self,
        config: ServerConfig,
        registry: ServiceRegistry,
        resources: Resources,
        channel_zero: ChannelZero,
    ) -> None:
        super().__init__()
        self.config = config
        self.registry = registry
        self.resources = resources
        self.channel_zero = channel_zero
        self.table = ChannelTable(config.max_channels_per_session)
        self.sessions: dict[int, Session] = {}
        self.live: dict[int, LiveChannel] = {}
        self._next_session_id = 2
        self._lock = asyncio.Lock()
        # Channel-0 notices every session gets right after READY (the open ports, §1.3).
        self.ready_notices: Callable[[], list[Command]] = list
        self.metrics = self.shared(REGISTRY_KEY, MetricsRegistry)
        self.traffic = install_server_metrics(self.metrics, self)
        self._request_seconds = request_histogram(self.metrics)
        # When a client last sent a command (idle sleep, server/idle_sleep.py).
        self.last_activity = time.monotonic()

    def next_session_id(self) -> int:
        session_id = self._next_session_id
        self._next_session_id += 1
        return session_id

    # -- ServerPort -------------------------------------------------------------------------
    def announce(self, command: Command) -> None:
        command.channel = 0
        command.session = 0
        frame = encode(command)
        for session in list(self.sessions.values()):
            session.send_frame(frame)

    # -- sessions ---------------------------------------------------------------------------
    def session_ready(self, session: Session) -> None:
        self.sessions[session.session_id] = session
        for notice in self.ready_notices():
            session.send(notice)
        self.traffic.connections += 1
        identity = session.identity
        log.info(
            "session %d connected: user %s (%d) as %s",
            session.session_id,
            identity.name,
            identity.user_id,
            identity.role.wire_name,
        )

    async def session_lost(self, session: Session) -> None:
        """Socket loss = DISCONNECT on every channel (§2.6)."""
        if self.sessions.pop(session.session_id, None) is not None:
            self.traffic.retire(session)
        async with self._lock:
            for outcome in self.table.disconnect_all(session.session_id):
                self._apply_close(outcome, session)
        log.info("session %d disconnected", session.session_id)

    async def handle_request(self, session: Session, command: Command, body: str) -> None:
        self.last_activity = time.monotonic()
        if command.channel != 0:
            live = self.live.get(command.channel)
            if live is not None:
                live.dispatch(session, command, body)
            return
        try:
            if body == "openChan":
                reply = await self._open(session, command)
            elif body == "closeChan":
                await self._close(session, command)
                reply = None
            else:
                reply = await self.channel_zero.handle(self, session, command, body)
        except Exception as exc:
            reply = Command(error=error_text(exc))
        if reply is not None:
            reply.ref = command.ref
            session.send(reply)

    # -- open / close -----------------------------------------------------------------------
    async def _open(self, session: Session, command: Command) -> Command | None:
        """openChan (§2.3); returns an error reply, or None once openChanRes is queued."""
        request = command.openChan
        service_class = self.registry.lookup(request.service)
        if service_class is None:
            return _open_error(f"unknown service: {request.service}")
        if session.identity.role < service_class.min_role:
            return _open_error(f"permission denied: {request.service}")
        async with self._lock:
            try:
                outcome = self.table.open(
                    session.session_id, service_class.name, request.name, request.action
                )
            except OpenRefused as exc:
                return _open_error(str(exc))
            channel = outcome.channel
            if outcome.created:
                live = LiveChannel(channel, self._request_seconds)
                context = ServiceContext(service_class.name, live, self, self.resources)
                live.start(service_class(context))
                self.live[channel.id] = live
            else:
                live = self.live[channel.id]
                live.cancel_idle_timer()
            reply = Command(ref=command.ref)
            reply.openChanRes.id = channel.id
            reply.openChanRes.state = (
                OpenChannelRes.CREATED if outcome.created else OpenChannelRes.ATTACHED
            )
            # Queued under the lock, before anything else can reach the session on this id.
            session.send(reply)
            session.connection.attached(channel.id)
            live.attach(session)
        log.info(
            "session %d %s channel %d (%s %r)",
            session.session_id,
            "created" if outcome.created else "attached",
            channel.id,
            channel.service,
            channel.name,
        )
        return None

    async def _close(self, session: Session, command: Command) -> None:
        """closeChan (§2.4): always answered with the same id, before any detach effect."""
        request = command.closeChan
        async with self._lock:
            outcome = self.table.close(
                session.session_id,
                request.id,
                request.action,
                may_destroy=session.identity.role >= Role.WRITE,
            )
            reply = Command(ref=command.ref)
            reply.closeChanRes.id = request.id
            reply.closeChanRes.status = outcome.status
            session.send(reply)
            self._apply_close(outcome, session)

    def _apply_close(self, outcome: CloseOutcome, closer: Session | None) -> None:
        """Detach sessions and destroy or start the idle timer, per the table's outcome."""
        channel = outcome.channel
        live = None if channel is None else self.live.get(channel.id)
        if channel is None or live is None:
            return
        for session_id in outcome.detached:
            is_closer = closer is not None and session_id == closer.session_id
            session = closer if is_closer else self.sessions.get(session_id)
            if session is not None:
                session.connection.detached(channel.id)
                if not outcome.destroyed:
                    live.detach(session)
        if outcome.destroyed:
            del self.live[channel.id]
            live.destroy()
            log.info("channel %d (%s %r) destroyed", channel.id, channel.service, channel.name)
        elif not channel.sessions and self.config.idle_timeout > 0:
            live.start_idle_timer(self.config.idle_timeout, self._reap_idle)

    def _reap_idle(self, channel_id: int) -> None:
        self.spawn(self._reap(channel_id), name=f"reap-{channel_id}")

    async def _reap(self, channel_id: int) -> None:
        async with self._lock:
            channel = self.table.get(channel_id)
            if channel is not None and not channel.sessions:
                self._apply_close(self.table.destroy(channel_id), None)

    def restart_idle_timers(self) -> None:
        """incRef: every running idle timer starts again."""
        for live in self.live.values():
            if live.idle_timer is not None:
                live.start_idle_timer(self.config.idle_timeout, self._reap_idle)

    # -- shutdown ---------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Destroy every channel (flush, stop processes), send SLEEP, close sockets 1001."""
        async with self._lock:
            channels = list(self.live.values())
            for live in channels:
                self._apply_close(self.table.destroy(live.channel.id), None)
        await asyncio.gather(*(live.wait_closed() for live in channels))
        sleep = Command()
        sleep.containerState.state = ContainerState.SLEEP
        self.announce(sleep)
        sessions = list(self.sessions.values())
        await asyncio.gather(*(session.flush(timeout=2.0) for session in sessions))
        for session in sessions:
            session.close(1001, "server shutting down")
        await asyncio.gather(*(session.closed.wait() for session in sessions))
        await self.close_facilities()


def _open_error(text: str) -> Command:
    reply = Command()
    reply.openChanRes.state = OpenChannelRes.ERROR
    reply.openChanRes.error = text
    return reply
