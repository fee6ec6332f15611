"""The ``shellrun2`` service (alias ``run``, protocol §4.5): the run button's console.

Owns the console's two modes on one shared terminal: idle (``Stopped``) = a prompt shell,
running = the ``.replit`` run command. ``runMain`` swaps the prompt for the run command (clear
screen, ``execInfo``, ``state: Running``), its exit brings the prompt back (an exit line, then
``state: Stopped``); ``clear{}`` stops a run (SIGINT, SIGTERM after 1 s, SIGKILL 2 s later) or
clears an idle screen. Run output is matched against hints. Terminal sharing is
``TerminalChannel``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from goval._proto.api_pb2 import Command, ExecInfo, State
from goval._proto.api_pb2 import Hint as HintMessage
from goval.errors import GovalError, ProcessError
from goval.host import RespawnPolicy, Terminal, default_shell
from goval.identity import Role
from goval.services.base import Deferred, Peer, Reply, Service, ServiceContext, ok
from goval.services.hints import BUILTIN_HINTS, HintMatcher
from goval.services.process_env import (
    dotreplit_or_default,
    process_cwd,
    process_environment,
    run_before_process_start,
)
from goval.services.shell import KEEPS_EXITING
from goval.services.terminal_channel import CLEAR_SCREEN, TERMINAL_BODIES, TerminalChannel
from goval.storage import load_dotreplit, run_command

__all__ = ["RunnerService"]

# clear{} on a run: SIGINT, then SIGTERM this long after, then SIGKILL this long after that.
INTERRUPT_GRACE = 1.0
TERMINATE_GRACE = 2.0


def exit_line(terminal: Terminal) -> str:
    """The decoration after a run (a **choice** of §4.5): a dim line naming how it ended."""
    return f"\r\n\x1b[2m{terminal.describe()}\x1b[0m\r\n"


class RunnerService(Service):
    name = "shellrun2"
    aliases = ("run",)
    min_role = Role.WRITE

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.terminal = TerminalChannel(ctx.channel, observe=self._observe)
        self.state = State.Stopped
        self._run: Terminal | None = None
        self._hints = HintMatcher(BUILTIN_HINTS)
        self._policy = RespawnPolicy()
        self._lock = asyncio.Lock()
        self._started = False
        self._closing = False

    async def attach(self, peer: Peer) -> None:
        if not self._started:
            self._started = True
            with contextlib.suppress(GovalError):
                await self._start_prompt()
        self.ctx.channel.send(peer, Command(state=self.state))
        self.terminal.greet(peer)

    async def detach(self, peer: Peer) -> None:
        self.terminal.forget(peer)

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
                if not self.terminal.alive and self._run is None:
                    self._policy.reset()
                    await self._start_prompt()
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
            resources = self.ctx.resources
            env = process_environment(resources, dotreplit, pty=True)
            try:
                self._run = await self.terminal.start(
                    argv,
                    cwd=process_cwd(resources),
                    env=env,
                    limits=resources.process_defaults.limits,
                    on_exit=self._run_exited,
                )
            except GovalError:
                await self._respawn_prompt()
                raise
            self.ctx.channel.broadcast(Command(execInfo=ExecInfo(command=argv, reason="run")))
            self._set_state(State.Running)
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
            for text in self._hints.finish():
                self.ctx.channel.broadcast(Command(hint=HintMessage(text=text)))
            self.terminal.emit(exit_line(run))
            self._run = None
            self.terminal.terminal = None
            self._set_state(State.Stopped)
            await self._respawn_prompt()

    def _observe(self, text: str) -> str:
        if self._run is not None:
            for hint in self._hints.feed(text):
                self.ctx.channel.broadcast(Command(hint=HintMessage(text=hint)))
        return text

    def _set_state(self, state: State.ValueType) -> None:
        if state != self.state:
            self.state = state
            self.ctx.channel.broadcast(Command(state=state))

    # -- the idle prompt ----------------------------------------------------------------------
    async def _start_prompt(self) -> None:
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
        resources = self.ctx.resources
        env = process_environment(resources, dotreplit_or_default(resources), pty=True)
        await self.terminal.start(
            default_shell(env),
            cwd=process_cwd(resources),
            env=env,
            limits=resources.process_defaults.limits,
            on_exit=self._prompt_exited,
        )
        self._policy.started(asyncio.get_running_loop().time())

    async def _prompt_exited(self, prompt: Terminal) -> None:
        if self._closing or prompt is not self.terminal.terminal:
            return
        if not self._policy.exited(asyncio.get_running_loop().time()):
            self.ctx.channel.broadcast(Command(error=KEEPS_EXITING))
            return
        async with self._lock:
            await self._respawn_prompt()
