"""A PTY shared by every session of one channel: the common part of shell, shellrun2, interp2.

Owns, for one channel: the emulator screen that outlives each process started on it, the
current ``Terminal``, every session's window size (the PTY gets the smallest rows and columns
among sessions that sent one, §4.4), the line discipline mode (sane / pipe mode), the greeting
(a redraw of the screen, never a byte replay) and the fan-out of output with the drop rule of
§3.5: PTY output never waits; a lagging session is skipped, and once it is writable again it
gets one ``output`` of ``ESC c`` plus a redraw. It also watches processes for their exit.
It does not decide what runs or when to restart: the services do.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence

from goval._proto.api_pb2 import Command
from goval.host import Limits, Terminal, TerminalScreen
from goval.services.base import ChannelPort, Peer

__all__ = ["CLEAR_SCREEN", "RESET", "TERMINAL_BODIES", "OnExit", "TerminalChannel"]

# Home, clear the screen, clear the scrollback (§4.5 clear{} while idle).
CLEAR_SCREEN = "\x1b[H\x1b[2J\x1b[3J"
# RIS: a lagging session's terminal starts over before its redraw.
RESET = "\x1bc"
# Bodies that configure the terminal rather than feed it; see TerminalChannel.configure.
TERMINAL_BODIES = frozenset({"resizeTerm", "saneTerm", "PTYConfig"})

# Interactive output (a keystroke's echo) is sent after this much quiet instead of the 2 ms
# pipe default (§3.7 makes it configurable): a PTY in full flow reads every ~0.1 ms, so bursts
# still coalesce into large chunks, while an echo is not held back for 2 ms.
TERMINAL_QUIET = 0.0005

OnExit = Callable[[Terminal], Awaitable[None]]


class TerminalChannel:
    """The terminal side of a channel.

    Args:
        channel: the service's channel port (peers, send, broadcast).
        observe: sees each output chunk before it is sent and returns the text to send (the
            screen has already parsed the original); used for prompt markers and hints.
    """

    def __init__(self, channel: ChannelPort, observe: Callable[[str], str] | None = None) -> None:
        self._channel = channel
        self._observe = observe
        self.screen = TerminalScreen()
        self.terminal: Terminal | None = None
        self._sizes: dict[int, tuple[int, int]] = {}
        self._pipe_mode = False
        # Sessions whose output was dropped, each with the task that redraws it once writable.
        self._stale: dict[int, asyncio.Task[None]] = {}
        self._watchers: set[asyncio.Task[None]] = set()

    @property
    def alive(self) -> bool:
        """True while a process runs on the terminal."""
        return self.terminal is not None and self.terminal.alive

    # -- processes ----------------------------------------------------------------------------
    async def start(
        self,
        argv: Sequence[str],
        *,
        cwd: str,
        env: Mapping[str, str],
        on_exit: OnExit,
        limits: Limits | None = None,
    ) -> Terminal:
        """Start ``argv`` on a new PTY drawing on this channel's screen, at the current size.

        ``on_exit(terminal)`` runs in its own task once it has exited and its output is out.

        Raises:
            ProcessError: the ``exec: ...`` text; nothing was started.
        """
        rows, cols = self.size()
        terminal = await Terminal.start(
            argv,
            cwd=cwd,
            env=env,
            on_output=self._on_output,
            rows=rows,
            cols=cols,
            screen=self.screen,
            limits=limits,
            quiet=TERMINAL_QUIET,
        )
        if self._pipe_mode:
            terminal.set_pipe_mode(True)
        self.terminal = terminal
        watcher = asyncio.get_running_loop().create_task(self._watch(terminal, on_exit))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        return terminal

    async def stop(self, grace: float = 2.0, sig: int = signal.SIGHUP) -> None:
        """End the current process's whole session (``sig``, SIGKILL after ``grace``)."""
        terminal = self.terminal
        if terminal is not None:
            await terminal.terminate_group(grace, sig)

    def write(self, text: str) -> None:
        """Type into the current process (dropped when none runs)."""
        if self.terminal is not None:
            self.terminal.write(text)

    async def aclose(self) -> None:
        """Stop the process tree and every task of this terminal."""
        for task in [*self._stale.values(), *self._watchers]:
            task.cancel()
        self._stale.clear()
        if self.terminal is not None:
            await self.terminal.aclose()

    async def _watch(self, terminal: Terminal, on_exit: OnExit) -> None:
        await terminal.wait()
        await on_exit(terminal)

    # -- sessions -----------------------------------------------------------------------------
    def greet(self, peer: Peer) -> None:
        """Send a newcomer one ``output`` that redraws the screen (nothing if it is blank)."""
        if self.blank():
            return
        self._channel.send(peer, Command(output=self.screen.redraw()))

    def blank(self) -> bool:
        """True while nothing is on the screen or in its scrollback."""
        vt = self.screen.vt
        return not vt.history and not any(line.strip() for line in vt.display)

    def forget(self, peer: Peer) -> None:
        """A session left: its size no longer counts, its pending redraw is cancelled."""
        task = self._stale.pop(peer.session_id, None)
        if task is not None:
            task.cancel()
        if self._sizes.pop(peer.session_id, None) is not None:
            self._apply_size()

    def configure(self, peer: Peer, command: Command) -> None:
        """Handle ``resizeTerm``, ``saneTerm`` or ``PTYConfig`` (see TERMINAL_BODIES)."""
        match command.WhichOneof("body"):
            case "resizeTerm":
                rows, cols = command.resizeTerm.rows, command.resizeTerm.cols
                if rows > 0 and cols > 0:
                    self._sizes[peer.session_id] = (rows, cols)
                    self._apply_size()
            case "saneTerm":
                self._pipe_mode = False
                if self.terminal is not None:
                    self.terminal.sane()
            case "PTYConfig":
                self._pipe_mode = command.PTYConfig.pipeMode
                if self.terminal is not None:
                    self.terminal.set_pipe_mode(self._pipe_mode)

    def size(self) -> tuple[int, int]:
        """(rows, cols): the smallest of each among sessions that sent one, else the screen's."""
        if not self._sizes:
            return self.screen.rows, self.screen.cols
        return min(r for r, _ in self._sizes.values()), min(c for _, c in self._sizes.values())

    def _apply_size(self) -> None:
        rows, cols = self.size()
        if (rows, cols) == (self.screen.rows, self.screen.cols):
            return
        if self.terminal is not None:
            self.terminal.resize(rows, cols)
        else:
            self.screen.resize(rows, cols)

    # -- output -------------------------------------------------------------------------------
    def emit(self, text: str) -> None:
        """Output the service itself produces (clear screen, banners): drawn, then sent."""
        self.screen.feed(text)
        self.publish(text)

    def publish(self, text: str) -> None:
        """Send already-drawn output to every session that can take it now."""
        if not text:
            return
        peers = self._channel.peers()
        if not self._stale and not any(peer.lagging for peer in peers):
            # The common case: encoded once for everyone.
            self._channel.broadcast(Command(output=text))
            return
        for peer in peers:
            if peer.session_id in self._stale:
                continue
            if peer.lagging:
                self._drop_for(peer)
            else:
                self._channel.send(peer, Command(output=text))

    def _on_output(self, text: str) -> None:
        if self._observe is not None:
            text = self._observe(text)
        self.publish(text)

    def _drop_for(self, peer: Peer) -> None:
        task = asyncio.get_running_loop().create_task(self._redraw_when_writable(peer))
        self._stale[peer.session_id] = task

    async def _redraw_when_writable(self, peer: Peer) -> None:
        try:
            await peer.wait_writable()
        finally:
            with contextlib.suppress(KeyError):
                if self._stale[peer.session_id] is asyncio.current_task():
                    del self._stale[peer.session_id]
        if any(p.session_id == peer.session_id for p in self._channel.peers()):
            self._channel.send(peer, Command(output=RESET + self.screen.redraw()))
