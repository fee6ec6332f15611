"""The ``interp2`` service (protocol §4.6): the Python REPL on a PTY shared by the channel.

Owns the REPL's life (started with the channel, restarted when it exits, restarted as
``python -i <entrypoint>`` by ``runMain``; ``clear{}`` is SIGINT) and its state: ``Running``
from the moment a line is entered until the REPL prompts again, ``Stopped`` at the prompt.
Prompt detection is a **choice** of §4.6: the REPL is started with a small bootstrap that puts
a private OSC marker in ``sys.ps1``/``sys.ps2`` (zero-width for readline); the marker is
stripped from output before it reaches any client (the emulator ignores it). Terminal sharing
is ``TerminalChannel``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Mapping

from goval._proto.api_pb2 import Command, State
from goval._proto.api_pb2 import Hint as HintMessage
from goval.errors import GovalError
from goval.host import RespawnPolicy, Terminal
from goval.identity import Role
from goval.services.base import Peer, Reply, Service, ServiceContext, ok
from goval.services.hints import BUILTIN_HINTS, HintMatcher
from goval.services.process_env import (
    dotreplit_or_default,
    process_cwd,
    process_environment,
    run_before_process_start,
)
from goval.services.shell import KEEPS_EXITING
from goval.services.terminal_channel import CLEAR_SCREEN, TERMINAL_BODIES, TerminalChannel

__all__ = ["PROMPT_MARKER", "InterpService", "PromptScanner"]

# An OSC no terminal knows: invisible even to a client that would not strip it.
PROMPT_MARKER = "\x1b]7771;goval-prompt\x07"
_WRAPPED = "\x01" + PROMPT_MARKER + "\x02"

# Run by ``python -i -c``: mark the prompts; with an argument, run that file as __main__ in
# the REPL's namespace (its definitions stay usable), its traceback without our frames.
BOOTSTRAP = f"""\
import sys
sys.ps1 = {_WRAPPED + ">>> "!r}
sys.ps2 = {_WRAPPED + "... "!r}
def _goval_main():
    import __main__, traceback
    path = sys.argv[1]
    sys.argv = sys.argv[1:]
    __main__.__file__ = path
    try:
        with open(path, "rb") as source:
            code = compile(source.read(), path, "exec")
        exec(code, __main__.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
if len(sys.argv) > 1:
    _goval_main()
del _goval_main
"""


class PromptScanner:
    """Finds and strips the prompt marker in output, even when split across chunks."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, text: str) -> tuple[str, bool]:
        """Returns (text without markers, whether a prompt was seen)."""
        text = self._held + text
        self._held = ""
        seen = PROMPT_MARKER in text
        if seen:
            text = text.replace(_WRAPPED, "").replace(PROMPT_MARKER, "")
        tail = text[-len(_WRAPPED) :]
        if "\x1b" in tail or "\x01" in tail:
            for size in range(min(len(_WRAPPED) - 1, len(text)), 0, -1):
                end = text[-size:]
                if PROMPT_MARKER.startswith(end) or _WRAPPED.startswith(end):
                    self._held, text = end, text[:-size]
                    break
        return text, seen


def python_argv(env: Mapping[str, str], entrypoint: str | None = None) -> list[str]:
    """``python -i`` (with the bootstrap), running ``entrypoint`` first if given."""
    python = "python" if shutil.which("python", path=env.get("PATH")) else "python3"
    return [python, "-i", "-c", BOOTSTRAP, *([entrypoint] if entrypoint else [])]


class InterpService(Service):
    name = "interp2"
    min_role = Role.WRITE

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.terminal = TerminalChannel(ctx.channel, observe=self._observe)
        self.state = State.Running
        self._scanner = PromptScanner()
        self._hints: HintMatcher | None = None
        self._policy = RespawnPolicy()
        self._lock = asyncio.Lock()
        self._started = False
        self._closing = False

    async def attach(self, peer: Peer) -> None:
        if not self._started:
            self._started = True
            with contextlib.suppress(GovalError):
                await self._restart(None)
        self.ctx.channel.send(peer, Command(state=self.state))
        self.terminal.greet(peer)

    async def detach(self, peer: Peer) -> None:
        self.terminal.forget(peer)

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "runMain":
                dotreplit = dotreplit_or_default(self.ctx.resources)
                self._hints = HintMatcher((*dotreplit.hints, *BUILTIN_HINTS))
                await self._restart(dotreplit.entrypoint or "main.py")
                return ok()
            case "clear":
                if self.terminal.terminal is not None:
                    self.terminal.terminal.interrupt()
                return ok()
            case "input":
                if not self.terminal.alive:
                    self._policy.reset()
                    await self._restart(None)
                if "\r" in command.input or "\n" in command.input:
                    self._set_state(State.Running)
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

    async def _restart(self, entrypoint: str | None) -> None:
        """Replace the REPL (if any) by a new one, running ``entrypoint`` first if given."""
        async with self._lock:
            if self._closing:
                return
            old, self.terminal.terminal = self.terminal.terminal, None
            if old is not None:
                await old.terminate_group(1.0)
            if entrypoint is not None:
                self.terminal.emit(CLEAR_SCREEN)
            await run_before_process_start(self.ctx.server)
            resources = self.ctx.resources
            env = process_environment(resources, dotreplit_or_default(resources), pty=True)
            self._scanner = PromptScanner()
            self._set_state(State.Running)
            await self.terminal.start(
                python_argv(env, entrypoint),
                cwd=process_cwd(resources),
                env=env,
                limits=resources.process_defaults.limits,
                on_exit=self._exited,
            )
            self._policy.started(asyncio.get_running_loop().time())

    async def _exited(self, repl: Terminal) -> None:
        if self._closing or repl is not self.terminal.terminal:
            return
        self._set_state(State.Stopped)
        if not self._policy.exited(asyncio.get_running_loop().time()):
            self.ctx.channel.broadcast(Command(error=KEEPS_EXITING))
            return
        try:
            await self._restart(None)
        except GovalError as exc:
            self.ctx.channel.broadcast(Command(error=str(exc)))

    def _observe(self, text: str) -> str:
        text, prompted = self._scanner.feed(text)
        if self._hints is not None and text:
            for hint in self._hints.feed(text):
                self.ctx.channel.broadcast(Command(hint=HintMessage(text=hint)))
        if prompted:
            # After the text that came before the prompt, so state follows the output.
            self.terminal.publish(text)
            self._set_state(State.Stopped)
            return ""
        return text

    def _set_state(self, state: State.ValueType) -> None:
        if state != self.state:
            self.state = state
            self.ctx.channel.broadcast(Command(state=state))
