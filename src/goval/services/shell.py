"""The ``shell`` service (protocol §4.4): the user's shell on a PTY shared by the channel.

Owns the shell's life: started when the channel gets its first session, restarted in the same
emulator when it exits, given up after five quick exits in a row (``shell keeps exiting``)
until someone types again. Terminal sharing (sizes, greeting, output fan-out and the drop rule
for laggards) is ``TerminalChannel``'s.
"""

from __future__ import annotations

import asyncio

from goval._proto.api_pb2 import Command
from goval.errors import GovalError
from goval.host import RespawnPolicy, Terminal, default_shell
from goval.identity import Role
from goval.services.base import Peer, Reply, Service, ServiceContext
from goval.services.process_env import (
    dotreplit_or_default,
    process_cwd,
    process_environment,
    run_before_process_start,
)
from goval.services.terminal_channel import TERMINAL_BODIES, TerminalChannel

__all__ = ["KEEPS_EXITING", "ShellService"]

KEEPS_EXITING = "shell keeps exiting"


class ShellService(Service):
    name = "shell"
    min_role = Role.WRITE

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.terminal = TerminalChannel(ctx.channel)
        self._policy = RespawnPolicy()
        self._lock = asyncio.Lock()
        self._started = False
        self._closing = False

    async def attach(self, peer: Peer) -> None:
        if not self._started:
            self._started = True
            await self._start_reporting(peer)
        self.terminal.greet(peer)

    async def detach(self, peer: Peer) -> None:
        self.terminal.forget(peer)

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "input":
                if not self.terminal.alive:
                    # Stopped after exiting too often: typing asks for a shell again.
                    self._policy.reset()
                    await self._start()
                self.terminal.write(command.input)
                return None
            case _ if body in TERMINAL_BODIES:
                self.terminal.configure(peer, command)
                return None
        return await super().handle(peer, command, body)

    async def aclose(self) -> None:
        self._closing = True
        async with self._lock:
            await self.terminal.aclose()

    async def _start_reporting(self, peer: Peer) -> None:
        try:
            await self._start()
        except GovalError as exc:
            self.ctx.channel.send(peer, Command(error=str(exc)))

    async def _start(self) -> None:
        async with self._lock:
            if self._closing or self.terminal.alive:
                return
            await run_before_process_start(self.ctx.server)
            resources = self.ctx.resources
            env = process_environment(resources, dotreplit_or_default(resources), pty=True)
            await self.terminal.start(
                default_shell(env),
                cwd=process_cwd(resources),
                env=env,
                limits=resources.process_defaults.limits,
                on_exit=self._exited,
            )
            self._policy.started(asyncio.get_running_loop().time())

    async def _exited(self, terminal: Terminal) -> None:
        if self._closing or terminal is not self.terminal.terminal:
            return
        if not self._policy.exited(asyncio.get_running_loop().time()):
            self.ctx.channel.broadcast(Command(error=KEEPS_EXITING))
            return
        try:
            await self._start()
        except GovalError as exc:
            self.ctx.channel.broadcast(Command(error=str(exc)))
