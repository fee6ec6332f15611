"""The ``shellrun2`` service (alias ``run``, protocol §4.5): the run button's console.

Owns the console's two modes on one shared terminal: idle (``Stopped``) = a prompt shell,
running = the ``.replit`` run command. ``runMain`` swaps the prompt for the run command (clear
screen, ``execInfo``, ``state: Running``), its exit brings the prompt back (an exit line, then
``state: Stopped``); ``clear{}`` stops a run (SIGINT, SIGTERM after 1 s, SIGKILL 2 s later) or
clears an idle screen. Run output is matched against hints. The prompt's respawn rule is
``TerminalService``'s, terminal sharing ``TerminalChannel``'s.
"""

from __future__ import annotations

import asyncio
import signal

from goval._proto.api_pb2 import Command, ExecInfo, State
from goval.errors import GovalError, ProcessError
from goval.host import Terminal, default_shell
from goval.identity import Role
from goval.services.base import Deferred, Peer, Reply, ServiceContext, ok
from goval.services.hints import BUILTIN_HINTS, HintMatcher
from goval.services.process_env import run_before_process_start
from goval.services.terminal_channel import CLEAR_SCREEN
from goval.services.terminal_service import TerminalService
from goval.storage import load_dotreplit, run_command

__all__ = ["RunnerService"]

# clear{} on a run: SIGINT, then SIGTERM this long after, then SIGKILL this long after that.
INTERRUPT_GRACE = 1.0
TERMINATE_GRACE = 2.0


def exit_line(terminal: Terminal) -> str:
    """The decoration after a run (a **choice** of §4.5): a dim line naming how it ended."""
    return f"\r\n\x1b[2m{terminal.describe()}\x1b[0m\r\n"


class RunnerService(TerminalService):
    name = "shellrun2"
    aliases = ("run",)
    min_role = Role.WRITE

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx, observe=self._observe)
        self.state = State.Stopped
        self._run: Terminal | None = None
        self._hints = HintMatcher(BUILTIN_HINTS)

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "runMain":
                return await self._run_main()
            case "clear":
                if self._run is not None:
                    return Deferred(self._stop_run(self._run))
                self.terminal.emit(CLEAR_SCREEN)
                return ok()
            case "input":
                if self._run is None:
                    await self.wake()
                self.terminal.write(command.input)
                return None
        return await super().handle(peer, command, body)

    # -- running ------------------------------------------------------------------------------
    async def _run_main(self) -> Command:
        async with self._lock:
            if self._run is not None:
                raise ProcessError("already running")
            dotreplit = load_dotreplit(self.ctx.resources.workspace)
            argv = run_command(dotreplit)
            await run_before_process_start(self.ctx.server)
            # The prompt is no longer wanted: its exit must not bring it back.
            prompt, self.terminal.terminal = self.terminal.terminal, None
            if prompt is not None:
                await prompt.terminate_group(TERMINATE_GRACE)
            self.terminal.emit(CLEAR_SCREEN)
            self._hints = HintMatcher((*dotreplit.hints, *BUILTIN_HINTS))
            try:
                self._run = await self.start_in_terminal(
                    lambda _env: argv, self._run_exited, dotreplit
                )
            except GovalError:
                await self._respawn_prompt()
                raise
            self.ctx.channel.broadcast(Command(execInfo=ExecInfo(command=argv, reason="run")))
            self.set_state(State.Running)
        return ok()

    async def _stop_run(self, run: Terminal) -> Command:
        run.interrupt()
        try:
            await asyncio.wait_for(run.wait(), INTERRUPT_GRACE)
        except TimeoutError:
            await run.terminate_group(TERMINATE_GRACE, signal.SIGTERM)
        return ok()

    async def _run_exited(self, run: Terminal) -> None:
        if self._closing or run is not self._run:
            return
        async with self._lock:
            self.broadcast_hints(self._hints.finish())
            self.terminal.emit(exit_line(run))
            self._run = None
            self.terminal.terminal = None
            self.set_state(State.Stopped)
            await self._respawn_prompt()

    def _observe(self, text: str) -> str:
        if self._run is not None:
            self.broadcast_hints(self._hints.feed(text))
        return text

    # -- the idle prompt ----------------------------------------------------------------------
    async def respawn(self) -> None:
        async with self._lock:
            await self._spawn_prompt()

    async def _respawn_prompt(self) -> None:
        try:
            await self._spawn_prompt()
        except GovalError as exc:
            self.ctx.channel.broadcast(Command(error=str(exc)))

    async def _spawn_prompt(self) -> None:
        if self._closing or self.terminal.alive:
            return
        await self.spawn(default_shell)
