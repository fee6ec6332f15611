"""The ``shell`` service (protocol §4.4): the user's shell on a PTY shared by the channel.

Owns what is the shell's own: the program (``$SHELL``, else bash, else sh), running the
before-start hooks, and telling the first session when its shell could not start. Starting it
with the channel, restarting it in the same emulator when it exits, giving up after five quick
exits in a row (``shell keeps exiting``) until someone types again are ``TerminalService``'s;
terminal sharing (sizes, greeting, output fan-out and the drop rule for laggards) is
``TerminalChannel``'s.
"""

from __future__ import annotations

from goval._proto.api_pb2 import Command
from goval.errors import GovalError
from goval.host import default_shell
from goval.identity import Role
from goval.services.base import Peer, Reply
from goval.services.process_env import run_before_process_start
from goval.services.terminal_service import KEEPS_EXITING, TerminalService

__all__ = ["KEEPS_EXITING", "ShellService"]


class ShellService(TerminalService):
    name = "shell"
    min_role = Role.WRITE

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "input":
                # Stopped after exiting too often: typing asks for a shell again.
                await self.wake()
                self.terminal.write(command.input)
                return None
        return await super().handle(peer, command, body)

    async def respawn(self) -> None:
        async with self._lock:
            if self._closing or self.terminal.alive:
                return
            await run_before_process_start(self.ctx.server)
            await self.spawn(default_shell)

    def first_start_failed(self, peer: Peer, error: GovalError) -> None:
        self.ctx.channel.send(peer, Command(error=str(error)))
