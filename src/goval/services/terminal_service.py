"""What shell, shellrun2 and interp2 share: a service whose processes run on one terminal.

Owns, for one channel: the ``TerminalChannel``, the lock that orders starting and stopping its
processes, the closing flag, and the respawn rule of the long-lived process (the shell, the idle
prompt, the REPL): started for the first session, started again when it exits, given up after
too many quick exits in a row (``shell keeps exiting`` to everyone) until the next ``input``.
It also starts processes with the workspace's environment, working directory and limits
(``process_env``), applies the terminal bodies (``TERMINAL_BODIES``), pushes ``state`` for the
services that have one, and closes the terminal. What runs, and what ``runMain`` or ``clear``
do, is each service's; terminal sharing is ``TerminalChannel``'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence

from goval._proto.api_pb2 import Command, State
from goval._proto.api_pb2 import Hint as HintMessage
from goval.errors import GovalError
from goval.host import RespawnPolicy, Terminal
from goval.services.base import Peer, Reply, Service, ServiceContext
from goval.services.process_env import dotreplit_or_default, process_cwd, process_environment
from goval.services.terminal_channel import TERMINAL_BODIES, OnExit, TerminalChannel
from goval.storage import DotReplit

__all__ = ["KEEPS_EXITING", "ArgvFor", "TerminalService"]

KEEPS_EXITING = "shell keeps exiting"

# The argv to start, given the environment it starts with (programs are found on its PATH).
ArgvFor = Callable[[Mapping[str, str]], Sequence[str]]


class TerminalService(Service):
    """Base class of the services whose processes share one ``TerminalChannel``.

    A subclass implements :meth:`respawn`, handles its own bodies and then calls
    ``super().handle`` (which applies the terminal bodies), and may override the hooks
    :meth:`first_start_failed` and :meth:`process_exited`.

    Args:
        ctx: the service's context.
        observe: passed on to ``TerminalChannel`` (sees each output chunk first).

    Attributes:
        state: pushed to each newcomer and on each change (:meth:`set_state`); None for a
            service without a state.
    """

    state: State.ValueType | None = None

    def __init__(self, ctx: ServiceContext, observe: Callable[[str], str] | None = None) -> None:
        super().__init__(ctx)
        self.terminal = TerminalChannel(ctx.channel, observe=observe)
        self._policy = RespawnPolicy()
        self._lock = asyncio.Lock()
        self._started = False
        self._closing = False

    async def attach(self, peer: Peer) -> None:
        if not self._started:
            self._started = True
            try:
                await self.respawn()
            except GovalError as exc:
                self.first_start_failed(peer, exc)
        if self.state is not None:
            self.ctx.channel.send(peer, Command(state=self.state))
        self.terminal.greet(peer)

    async def detach(self, peer: Peer) -> None:
        self.terminal.forget(peer)

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        if body in TERMINAL_BODIES:
            self.terminal.configure(peer, command)
            return None
        return await super().handle(peer, command, body)

    async def aclose(self) -> None:
        self._closing = True
        async with self._lock:
            await self.terminal.aclose()

    # -- for subclasses -----------------------------------------------------------------------
    async def respawn(self) -> None:
        """(Re)start the long-lived process with :meth:`spawn`, taking the lock.

        Called for the first session, after an exit the respawn rule allows, and by :meth:`wake`.

        Raises:
            GovalError: it could not start.
        """
        raise NotImplementedError

    def first_start_failed(self, peer: Peer, error: GovalError) -> None:
        """The first session's start failed; by default silently (the next input retries)."""

    def process_exited(self, terminal: Terminal) -> None:
        """The long-lived process exited while wanted; runs before the respawn decision."""

    async def wake(self) -> None:
        """Typing while nothing runs asks for the process again, even after it kept exiting."""
        if not self.terminal.alive:
            self._policy.reset()
            await self.respawn()

    async def spawn(self, argv_for: ArgvFor) -> Terminal:
        """Start the long-lived process, which respawns on exit (call with the lock held)."""
        terminal = await self.start_in_terminal(argv_for, self._respawn_after)
        self._policy.started(asyncio.get_running_loop().time())
        return terminal

    async def start_in_terminal(
        self, argv_for: ArgvFor, on_exit: OnExit, dotreplit: DotReplit | None = None
    ) -> Terminal:
        """Start a process on the terminal with the environment of ``dotreplit`` (default: the
        workspace's ``.replit``, a broken one counting as absent), the process cwd and limits.

        Raises:
            ProcessError: the ``exec: ...`` text; nothing was started.
        """
        resources = self.ctx.resources
        if dotreplit is None:
            dotreplit = dotreplit_or_default(resources)
        env = process_environment(resources, dotreplit, pty=True)
        return await self.terminal.start(
            argv_for(env),
            cwd=process_cwd(resources),
            env=env,
            limits=resources.process_defaults.limits,
            on_exit=on_exit,
        )

    def set_state(self, state: State.ValueType) -> None:
        """Change the state, telling every session when it changed."""
        if state != self.state:
            self.state = state
            self.ctx.channel.broadcast(Command(state=state))

    def broadcast_hints(self, texts: Iterable[str]) -> None:
        """Send each hint text to every session."""
        for text in texts:
            self.ctx.channel.broadcast(Command(hint=HintMessage(text=text)))

    async def _respawn_after(self, terminal: Terminal) -> None:
        if self._closing or terminal is not self.terminal.terminal:
            return
        self.process_exited(terminal)
        if not self._policy.exited(asyncio.get_running_loop().time()):
            self.ctx.channel.broadcast(Command(error=KEEPS_EXITING))
            return
        try:
            await self.respawn()
        except GovalError as exc:
            self.ctx.channel.broadcast(Command(error=str(exc)))
