"""A child process on pipes: the OS side of ``exec``, ``eval`` and other pipe streams.

Owns one child whose stdout and stderr share a single pipe (so their text arrives in the order
it was written), its writable stdin, and the delivery of its output as decoded, coalesced chunks
to a synchronous callback. Reading pauses and resumes on request; while paused the child blocks
on a full pipe, which is the back-pressure of protocol §3.5. It knows nothing of channels.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Mapping, Sequence

from goval.host.decoder import CHUNK_LIMIT, QUIET
from goval.host.fdio import FdReader, FdWriter
from goval.host.output import OutputPump
from goval.host.process import ChildProcess, Limits, child_environment, launch

__all__ = ["PipeProcess"]


class PipeProcess:
    """A running child with merged stdout+stderr and a writable stdin.

    Create with ``await PipeProcess.start(...)``. ``wait()`` returns only after the child has
    exited *and* its output has been delivered (end of file, or ``linger`` seconds after exit
    when a background grandchild keeps the pipe open).
    """

    def __init__(
        self, child: ChildProcess, out_fd: int, in_fd: int, pump: OutputPump, linger: float
    ) -> None:
        self._child = child
        self._out_fd = out_fd
        self._pump = pump
        self._linger = linger
        self._eof = asyncio.Event()
        self._reader = FdReader(out_fd, pump.feed, self._eof.set)
        self._stdin = FdWriter(in_fd, owns_fd=True)
        self._finished = asyncio.ensure_future(self._finish())

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        cwd: str,
        on_output: Callable[[str], None],
        env: Mapping[str, str] | None = None,
        limits: Limits | None = None,
        linger: float = 0.5,
        chunk_limit: int = CHUNK_LIMIT,
        quiet: float = QUIET,
    ) -> PipeProcess:
        """Start ``argv`` (``argv[0]`` looked up in ``env``'s PATH, no shell).

        Args:
            argv: the command.
            cwd: its working directory.
            on_output: receives each output chunk (text, at most ``chunk_limit`` UTF-8 bytes).
            env: the complete environment (default: ``child_environment()``).
            limits: optional rlimits.
            linger: seconds to keep reading after exit while the pipe stays open.

        Raises:
            ProcessError: ``missing command`` or ``exec: "<argv0>": ...``; nothing was started.
        """
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        in_r, in_w = os.pipe2(os.O_CLOEXEC)
        try:
            child = launch(
                argv,
                cwd=cwd,
                env=child_environment() if env is None else env,
                stdin=in_r,
                stdout=out_w,
                stderr=out_w,
                limits=limits,
            )
        except BaseException:
            for fd in (out_r, in_w):
                os.close(fd)
            raise
        finally:
            os.close(out_w)
            os.close(in_r)
        pump = OutputPump(on_output, limit=chunk_limit, quiet=quiet)
        return cls(child, out_r, in_w, pump, linger)

    @property
    def pid(self) -> int:
        """The child's pid (also its process group and session id)."""
        return self._child.pid

    @property
    def returncode(self) -> int | None:
        """See ``ChildProcess.returncode``."""
        return self._child.returncode

    @property
    def alive(self) -> bool:
        """True until the child has exited."""
        return self._child.alive

    @property
    def paused(self) -> bool:
        """True while output reading is paused."""
        return self._reader.paused

    def describe(self) -> str:
        """``exit status N`` / ``signal: NAME`` once ended, '' before."""
        return self._child.describe()

    def write(self, data: str | bytes) -> None:
        """Feed the child's stdin (dropped silently once it closed its end)."""
        self._stdin.write(data.encode("utf-8") if isinstance(data, str) else data)

    def close_stdin(self) -> None:
        """Send end of file on stdin once queued input is written."""
        self._stdin.close()

    def flush_output(self) -> None:
        """Deliver now what the pipe holds and what waits for the quiet period.

        A caller that learns by another route that the child finished a step (eval's result)
        calls this so the step's output reaches ``on_output`` before it reports the step."""
        self._reader.drain()  # a no-op once the reader has stopped
        self._pump.flush()

    def pause_reading(self) -> None:
        """Stop reading output: the child blocks when the pipe buffer (64 KiB) fills."""
        self._reader.pause()

    def resume_reading(self) -> None:
        """Read output again after ``pause_reading``."""
        self._reader.resume()

    def interrupt(self) -> None:
        """SIGINT to the child's process group."""
        self._child.interrupt()

    async def terminate_group(self, grace: float = 2.0, sig: int = signal.SIGTERM) -> int:
        """``sig`` to the child's session, SIGKILL after ``grace``; returns the returncode.

        Reading resumes: output still in the pipe is delivered, then ``wait`` can finish."""
        await self._child.terminate_group(grace, sig)
        self._reader.resume()
        return await self.wait()

    async def wait(self) -> int:
        """Wait for exit and for all output to be delivered; return the returncode."""
        return await asyncio.shield(self._finished)

    async def _finish(self) -> int:
        code = await self._child.wait()
        while not self._eof.is_set():
            try:
                await asyncio.wait_for(self._eof.wait(), self._linger)
            except TimeoutError:
                # A grandchild holds the pipe; stop once it is not us holding back the data.
                if not self._reader.paused:
                    break
        self._reader.drain()
        self._reader.stop()
        self._stdin.close()
        os.close(self._out_fd)
        self._pump.close()
        return code
