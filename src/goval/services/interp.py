"""The ``interp2`` service (protocol §4.6): the Python REPL on a PTY shared by the channel.

Owns the REPL's life (started with the channel, restarted when it exits, restarted as
``python -i <entrypoint>`` by ``runMain``; ``clear{}`` is SIGINT) and its state: ``Running``
from the moment a line is entered until the REPL prompts again, ``Stopped`` at the prompt.
Prompt detection is a **choice** of §4.6: the REPL is started with a small bootstrap that puts
a private OSC marker in ``sys.ps1``/``sys.ps2`` (zero-width for readline); the marker is
stripped from output before it reaches any client (the emulator ignores it). The respawn rule
is ``TerminalService``'s, terminal sharing ``TerminalChannel``'s.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping

from goval._proto.api_pb2 import Command, State
from goval.host import Terminal
from goval.identity import Role
from goval.services.base import Peer, Reply, ServiceContext, ok
from goval.services.hints import BUILTIN_HINTS, HintMatcher
from goval.services.process_env import dotreplit_or_default, run_before_process_start
from goval.services.terminal_channel import CLEAR_SCREEN
from goval.services.terminal_service import TerminalService

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


class InterpService(TerminalService):
    name = "interp2"
    min_role = Role.WRITE

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx, observe=self._observe)
        self.state = State.Running
        self._scanner = PromptScanner()
        self._hints: HintMatcher | None = None

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
                await self.wake()
                if "\r" in command.input or "\n" in command.input:
                    self.set_state(State.Running)
                self.terminal.write(command.input)
                return None
        return await super().handle(peer, command, body)

    async def respawn(self) -> None:
        await self._restart(None)

    def process_exited(self, terminal: Terminal) -> None:
        self.set_state(State.Stopped)

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
            self._scanner = PromptScanner()
            self.set_state(State.Running)
            await self.spawn(lambda env: python_argv(env, entrypoint))

    def _observe(self, text: str) -> str:
        text, prompted = self._scanner.feed(text)
        if self._hints is not None and text:
            self.broadcast_hints(self._hints.feed(text))
        if prompted:
            # After the text that came before the prompt, so state follows the output.
            self.terminal.publish(text)
            self.set_state(State.Stopped)
            return ""
        return text
