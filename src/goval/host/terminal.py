"""A command running on a real PTY, its output delivered as text and tracked on a screen.

Owns one PTY pair and the child on its slave side (its own session, the PTY as controlling
terminal, ``TERM=xterm-256color``), reading the master on the asyncio loop (up to 64 KiB per
wakeup, never paused: PTY output is not back-pressured, services drop it for laggards),
decoding + coalescing it into ``on_output`` chunks, and feeding the same chunks to a
``TerminalScreen`` so a redraw always matches exactly what was delivered. Also: writes, window
size, line discipline modes (sane / pipe mode) and signals. The screen outlives the process:
pass it to the next ``Terminal.start`` to respawn "in the same emulator".
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import termios
from collections.abc import Callable, Mapping, Sequence

from goval.host.decoder import CHUNK_LIMIT, QUIET
from goval.host.fdio import FdReader, FdWriter
from goval.host.output import OutputPump
from goval.host.process import ChildProcess, Limits, child_environment, launch
from goval.host.screen import TerminalScreen
from goval.host.termmodes import pipe_mode_attrs, sane_attrs

__all__ = ["Terminal", "default_shell"]

# Parse queued output into the screen once output has been quiet this long, in slices of this
# many characters, so a redraw rarely has much left to parse and the loop is never held long.
_IDLE = 0.05
_SLICE = 16 * 1024


def default_shell(env: Mapping[str, str] | None = None) -> list[str]:
    """``$SHELL``, else ``/bin/bash``, else ``/bin/sh`` (protocol §4.4)."""
    shell = (os.environ if env is None else env).get("SHELL", "")
    for candidate in (shell, "/bin/bash", "/bin/sh"):
        if candidate and os.access(candidate, os.X_OK):
            return [candidate]
    return ["/bin/sh"]


def _terminal_env(env: Mapping[str, str] | None) -> dict[str, str]:
    if env is None:
        return child_environment(pty=True)
    full = dict(env)
    # Inherited LINES/COLUMNS would override the window size the child reads from the PTY.
    full.pop("LINES", None)
    full.pop("COLUMNS", None)
    full.setdefault("TERM", "xterm-256color")
    return full


class Terminal:
    """A child on a PTY. Create with ``await Terminal.start(...)``."""

    def __init__(
        self,
        child: ChildProcess,
        master: int,
        screen: TerminalScreen,
        on_output: Callable[[str], None],
        pump: Callable[[Callable[[str], None]], OutputPump],
    ) -> None:
        self._child = child
        self._master = master
        self.screen = screen
        self._loop = asyncio.get_running_loop()
        self._on_output = on_output
        self._pump = pump(self._deliver)
        self._eof = asyncio.Event()
        self._reader = FdReader(master, self._pump.feed, self._eof.set)
        self._writer = FdWriter(master, owns_fd=False)
        self._last_output = 0.0
        self._idle: asyncio.Handle | None = None
        self._finished = asyncio.ensure_future(self._finish())

    @classmethod
    async def start(
        cls,
        argv: Sequence[str] | None = None,
        *,
        cwd: str,
        on_output: Callable[[str], None],
        env: Mapping[str, str] | None = None,
        rows: int | None = None,
        cols: int | None = None,
        screen: TerminalScreen | None = None,
        limits: Limits | None = None,
        chunk_limit: int = CHUNK_LIMIT,
        quiet: float = QUIET,
    ) -> Terminal:
        """Start ``argv`` (default: ``default_shell()``) on a new PTY.

        Args:
            cwd: working directory.
            on_output: receives each output chunk (text, at most ``chunk_limit`` UTF-8 bytes).
            env: the complete environment (default ``child_environment(pty=True)``, which
                sets ``TERM=xterm-256color``); ``LINES``/``COLUMNS`` are removed, a missing
                ``TERM`` is set.
            rows, cols: window size (default: the screen's, else 24 x 80).
            screen: an existing screen to keep drawing on (respawn in the same emulator).

        Raises:
            ProcessError: the ``exec: ...`` text; nothing was started.
        """
        if screen is None:
            screen = TerminalScreen(rows or 24, cols or 80)
        elif rows or cols:
            screen.resize(rows or screen.rows, cols or screen.cols)
        master, slave = os.openpty()
        try:
            _set_winsize(master, screen.rows, screen.cols)
            _apply(slave, sane_attrs)
            child = launch(
                list(argv) if argv else default_shell(env),
                cwd=cwd,
                env=_terminal_env(env),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                limits=limits,
                controlling_tty=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        return cls(
            child,
            master,
            screen,
            on_output,
            lambda deliver: OutputPump(deliver, limit=chunk_limit, quiet=quiet),
        )

    @property
    def pid(self) -> int:
        """The child's pid (its session and process group id)."""
        return self._child.pid

    @property
    def alive(self) -> bool:
        """True until the child has exited."""
        return self._child.alive

    @property
    def returncode(self) -> int | None:
        """See ``ChildProcess.returncode``."""
        return self._child.returncode

    def describe(self) -> str:
        """``exit status N`` / ``signal: NAME`` once ended, '' before."""
        return self._child.describe()

    def write(self, data: str | bytes) -> None:
        """Type into the terminal (dropped once the PTY is closed)."""
        if not self._finished.done():
            self._writer.write(data.encode("utf-8") if isinstance(data, str) else data)

    def resize(self, rows: int, cols: int) -> None:
        """Set the window size (the child gets SIGWINCH) and resize the screen."""
        if rows <= 0 or cols <= 0:
            return
        if not self._finished.done():
            _set_winsize(self._master, rows, cols)
        self.screen.resize(rows, cols)

    def sane(self) -> None:
        """``stty sane``."""
        self._set_attrs(sane_attrs)

    def set_pipe_mode(self, enabled: bool) -> None:
        """True: ``stty raw icrnl isig -echo``; False: ``stty sane``."""
        self._set_attrs(pipe_mode_attrs if enabled else sane_attrs)

    def redraw(self) -> str:
        """A clean rendering of everything delivered so far (see ``goval.host.redraw``)."""
        return self.screen.redraw()

    def interrupt(self) -> None:
        """SIGINT to the terminal's foreground process group (what Ctrl-C reaches)."""
        try:
            group = os.tcgetpgrp(self._master)
        except OSError:
            group = self.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGINT)

    async def terminate_group(self, grace: float = 2.0, sig: int = signal.SIGHUP) -> int:
        """``sig`` (SIGHUP: what closing a terminal sends; an interactive shell ignores
        SIGTERM) to the child's session, SIGKILL after ``grace``. Returns the returncode."""
        await self._child.terminate_group(grace, sig)
        return await self.wait()

    async def wait(self) -> int:
        """Wait for the child to exit and its output to be delivered; return the returncode."""
        return await asyncio.shield(self._finished)

    async def aclose(self) -> None:
        """End the child's session (if running) and release the PTY."""
        await self.terminate_group()

    def _set_attrs(self, change: Callable[[list[int | list[bytes | int]]], None]) -> None:
        if not self._finished.done():
            _apply(self._master, change)

    def _deliver(self, text: str) -> None:
        self.screen.feed(text)
        self._last_output = self._loop.time()
        if self._idle is None:
            self._idle = self._loop.call_at(self._last_output + _IDLE, self._on_idle)
        self._on_output(text)

    def _on_idle(self) -> None:
        quiet_at = self._last_output + _IDLE
        if self._loop.time() < quiet_at:
            self._idle = self._loop.call_at(quiet_at, self._on_idle)
            return
        if self.screen.catch_up(_SLICE):
            self._idle = None
        else:
            self._idle = self._loop.call_soon(self._on_idle)

    async def _finish(self) -> int:
        code = await self._child.wait()
        # The slave closes with the child unless a background job holds it: then stop soon.
        try:
            await asyncio.wait_for(self._eof.wait(), 0.2)
        except TimeoutError:
            self._reader.drain()
        self._reader.stop()
        self._writer.close()
        self._pump.close()
        os.close(self._master)
        return code


def _set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _apply(fd: int, change: Callable[[list[int | list[bytes | int]]], None]) -> None:
    # On Linux, termios calls on a PTY master act on its slave's line discipline.
    attrs = termios.tcgetattr(fd)
    change(attrs)
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
