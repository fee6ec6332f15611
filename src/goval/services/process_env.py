"""Where and with what environment a workspace process starts (protocol §3.6), and the hook
that runs before any process starts.

Owns the composition order of the environment: the server's (minus ``GOVAL_*``, plus
``TERM`` for PTYs), the workspace ``.venv`` (``VIRTUAL_ENV``, its ``bin`` leading ``PATH``),
``.replit`` ``[env]`` (``${VAR}`` interpolated), ``pid1Config.env``, then the request's own
variables; and the working directory (the root, or ``pid1Config.cwd`` inside it). It also owns
the server-wide ``before_process_start`` list: async callbacks (OT registers its flush there)
that every process service awaits before it starts anything. It starts nothing itself.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping

from goval.errors import FileError, GovalError
from goval.host import child_environment
from goval.services.base import Resources, ServerPort
from goval.storage import DotReplit, load_dotreplit

__all__ = [
    "BEFORE_PROCESS_START",
    "before_process_start",
    "dotreplit_or_default",
    "process_cwd",
    "process_environment",
    "run_before_process_start",
]

BEFORE_PROCESS_START = "before_process_start"

Callback = Callable[[], Awaitable[None]]


def before_process_start(server: ServerPort) -> list[Callback]:
    """The server's shared list of callbacks awaited before any process starts.

    OT appends a callback that flushes every document with unwritten edits (§3.6); process
    services call :func:`run_before_process_start` right before they spawn.
    """
    callbacks: list[Callback] = server.shared(BEFORE_PROCESS_START, list)
    return callbacks


async def run_before_process_start(server: ServerPort) -> None:
    """Await every registered callback, in registration order."""
    for callback in list(before_process_start(server)):
        await callback()


def dotreplit_or_default(resources: Resources) -> DotReplit:
    """The workspace's ``.replit``; an invalid one counts as absent (for shells, which must
    start even when the file is broken; ``runMain`` reports the error instead)."""
    try:
        return load_dotreplit(resources.workspace)
    except GovalError:
        return DotReplit()


def process_cwd(resources: Resources) -> str:
    """The root, or ``pid1Config.cwd`` resolved inside it (outside → the root)."""
    wanted = resources.process_defaults.cwd
    if wanted:
        try:
            path = resources.workspace.absolute(wanted)
        except FileError:
            path = resources.workspace_root
        if path.is_dir():
            return str(path)
    return str(resources.workspace_root)


def process_environment(
    resources: Resources,
    dotreplit: DotReplit | None = None,
    extra: Mapping[str, str] | None = None,
    *,
    pty: bool = False,
) -> dict[str, str]:
    """The complete environment of a new process, composed in the order of §3.6."""
    env = child_environment(base=os.environ, pty=pty)
    venv = resources.workspace_root / ".venv"
    if (venv / "bin").is_dir():
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = os.pathsep.join(filter(None, (str(venv / "bin"), env.get("PATH", ""))))
    if dotreplit is not None:
        env.update(dotreplit.resolved_env(env))
    env.update(resources.process_defaults.env)
    if extra:
        env.update(extra)
    return env
