"""Starting children in their own session and ending their whole process tree.

Owns the launch rules of protocol §3.6 shared by pipes and PTYs: its own session and process
group (``start_new_session``), cwd, the environment (the server's minus ``GOVAL_*``, plus
additions), optional rlimits (``Limits``), Go-style spawn errors and exit descriptions, and
``ChildProcess``: waiting for exit through a pidfd on the asyncio loop (no helper threads) and
signalling the child's session. It does not touch the child's stdio; see ``pipe`` and
``terminal``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import resource
import shutil
import signal
import subprocess
import termios
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from goval.errors import ProcessError
from goval.host.procfs import all_stats
from goval.host.signals import describe_exit

__all__ = ["ChildProcess", "Limits", "child_environment", "launch", "spawn_error"]

# How often terminate_group looks whether the tree is gone while the grace period runs.
_GONE_POLL = 0.01


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits applied to a child (None = inherit the server's).

    Attributes:
        cpu_seconds: CPU time; the child gets SIGXCPU at the limit, SIGKILL a second later.
        address_space: bytes of virtual memory (RLIMIT_AS).
        processes: processes of the server's user (RLIMIT_NPROC).
        file_size: largest file the child may write, in bytes (RLIMIT_FSIZE).
    """

    cpu_seconds: int | None = None
    address_space: int | None = None
    processes: int | None = None
    file_size: int | None = None

    def rlimits(self) -> list[tuple[int, tuple[int, int]]]:
        """(resource, (soft, hard)) pairs, never above the server's own hard limits."""
        wanted = [
            (resource.RLIMIT_CPU, self.cpu_seconds, 1),
            (resource.RLIMIT_AS, self.address_space, 0),
            (resource.RLIMIT_NPROC, self.processes, 0),
            (resource.RLIMIT_FSIZE, self.file_size, 0),
        ]
        pairs: list[tuple[int, tuple[int, int]]] = []
        for res, value, hard_slack in wanted:
            if value is None:
                continue
            _, cur_hard = resource.getrlimit(res)
            hard = value + hard_slack
            if cur_hard != resource.RLIM_INFINITY:
                hard = min(hard, cur_hard)
            pairs.append((res, (min(value, hard), hard)))
        return pairs


def child_environment(
    additions: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
    *,
    pty: bool = False,
) -> dict[str, str]:
    """``base`` (default: the server's environment) minus ``GOVAL_*``; for a PTY child then
    ``TERM=xterm-256color`` (and no ``LINES``/``COLUMNS``, which would override the window
    size); then ``additions`` — the order of protocol §3.6."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not k.startswith("GOVAL_")}
    if pty:
        env.pop("LINES", None)
        env.pop("COLUMNS", None)
        env["TERM"] = "xterm-256color"
    if additions:
        env.update(additions)
    return env


def spawn_error(argv0: str, exc: BaseException, cwd: str | None = None) -> ProcessError:
    """The Go-style text for a failed start: ``exec: "<argv0>": <reason>``."""
    if isinstance(exc, OSError) and exc.errno is not None:
        reason = os.strerror(exc.errno)
        reason = reason[:1].lower() + reason[1:]
        if cwd is not None and exc.filename == cwd:
            reason = f"chdir {cwd}: {reason}"
    else:
        reason = str(exc) or type(exc).__name__
    return ProcessError(f'exec: "{argv0}": {reason}')


def _resolve(argv0: str, env: Mapping[str, str]) -> str:
    if "/" in argv0:
        return argv0
    found = shutil.which(argv0, path=env.get("PATH", os.defpath))
    if found is None:
        raise ProcessError(f'exec: "{argv0}": executable file not found in $PATH')
    return found


def _preexec(rlimits: list[tuple[int, tuple[int, int]]], tty: bool) -> Callable[[], None]:
    # Runs in the child after setsid(): take the PTY as controlling terminal, then limit.
    def run() -> None:
        if tty:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        for res, pair in rlimits:
            resource.setrlimit(res, pair)

    return run


def launch(
    argv: Sequence[str],
    *,
    cwd: str,
    env: Mapping[str, str],
    stdin: int | IO[Any],
    stdout: int | IO[Any],
    stderr: int | IO[Any],
    limits: Limits | None = None,
    controlling_tty: bool = False,
) -> ChildProcess:
    """Start ``argv`` in a new session with exactly ``env`` (see ``child_environment``).

    Raises:
        ProcessError: ``missing command`` or the ``exec: "<argv0>": ...`` text.
    """
    if not argv:
        raise ProcessError("missing command")
    executable = _resolve(argv[0], env)
    rlimits = limits.rlimits() if limits else []
    needs_preexec = controlling_tty or bool(rlimits)
    try:
        popen = subprocess.Popen(
            list(argv),
            executable=executable,
            cwd=cwd,
            env=dict(env),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_preexec(rlimits, controlling_tty) if needs_preexec else None,
        )
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise spawn_error(argv[0], exc, cwd) from exc
    return ChildProcess(popen)


class ChildProcess:
    """A started child that leads its own session and process group (pgid = sid = pid)."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen
        self.pid = popen.pid
        self._loop = asyncio.get_running_loop()
        self._exited: asyncio.Future[int] = self._loop.create_future()
        self._watch()

    @property
    def returncode(self) -> int | None:
        """Exit code, or minus the signal number; None while running (or not yet reaped)."""
        return self._popen.returncode

    @property
    def alive(self) -> bool:
        """True until the child has exited and been reaped."""
        return not self._exited.done()

    async def wait(self) -> int:
        """Wait for the child to exit; return its returncode (see ``describe_exit``)."""
        return await asyncio.shield(self._exited)

    def describe(self) -> str:
        """``exit status N`` / ``signal: NAME`` for the ended child ('' while running)."""
        code = self.returncode
        return "" if code is None else describe_exit(code)

    def signal_group(self, sig: int) -> None:
        """Send ``sig`` to every live process of the child's session (its group included)."""
        targets = {st.pid for st in all_stats() if st.sid == self.pid and not st.dead}
        if self.alive:
            targets.add(self.pid)
        for pid in targets:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def interrupt(self) -> None:
        """SIGINT to the child's session, as Ctrl-C would."""
        self.signal_group(signal.SIGINT)

    def tree_alive(self) -> bool:
        """True while the child or anything left in its session can still run."""
        if self.alive:
            return True
        return any(st.sid == self.pid and not st.dead for st in all_stats())

    async def terminate_group(self, grace: float = 2.0, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` (SIGTERM, or SIGHUP for a shell) to the whole session; after ``grace``
        seconds SIGKILL whatever is left. Returns the child's returncode."""
        if self.tree_alive():
            self.signal_group(sig)
            deadline = self._loop.time() + grace
            # No event tells us when a grandchild dies: poll /proc.
            while self.tree_alive() and self._loop.time() < deadline:
                await asyncio.sleep(_GONE_POLL)
            if self.tree_alive():
                self.signal_group(signal.SIGKILL)
        code = await self.wait()
        # SIGKILL is not instant: wait (briefly) until nothing of the tree can run any more.
        deadline = self._loop.time() + 1.0
        while self.tree_alive() and self._loop.time() < deadline:
            await asyncio.sleep(_GONE_POLL)
        return code

    def _watch(self) -> None:
        try:
            pidfd = os.pidfd_open(self.pid)
        except OSError:
            # No pidfd (old kernel): a thread per child waits instead.
            task = self._loop.run_in_executor(None, self._popen.wait)
            task.add_done_callback(lambda f: self._set_exited())
            return

        def on_readable() -> None:
            if self._popen.poll() is not None:
                self._loop.remove_reader(pidfd)
                os.close(pidfd)
                self._set_exited()

        self._loop.add_reader(pidfd, on_readable)

    def _set_exited(self) -> None:
        if not self._exited.done() and self._popen.returncode is not None:
            self._exited.set_result(self._popen.returncode)
