"""`.replit` ``onBoot``: a command run once when the server starts (protocol.md §3.6).

It runs detached from any session — in the workspace, with the same environment and limits as
every workspace process — and its output goes to the server log, one line per log record. It
does not delay start-up, and shutdown ends its whole process group like any other process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from goval.errors import GovalError
from goval.host import PipeProcess, describe_exit
from goval.services.base import Resources
from goval.services.process_env import dotreplit_or_default, process_cwd, process_environment

__all__ = ["OnBoot"]

log = logging.getLogger("goval.onboot")


class OnBoot:
    """Starts the workspace's onBoot command, if it has one, and stops it at shutdown."""

    def __init__(self, resources: Resources) -> None:
        self._resources = resources
        self._process: PipeProcess | None = None
        self._waiter: asyncio.Task[None] | None = None
        self._partial = ""

    async def start(self) -> None:
        dotreplit = dotreplit_or_default(self._resources)
        if not dotreplit.on_boot:
            return
        argv = list(dotreplit.on_boot)
        try:
            self._process = await PipeProcess.start(
                argv,
                cwd=process_cwd(self._resources),
                on_output=self._log_output,
                env=process_environment(self._resources, dotreplit),
                limits=self._resources.process_defaults.limits,
            )
        except GovalError as exc:
            log.warning("onBoot did not start: %s", exc)
            return
        log.info("onBoot started: %s", " ".join(argv))
        self._waiter = asyncio.get_running_loop().create_task(self._wait(), name="onboot")

    def _log_output(self, text: str) -> None:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            log.info("onBoot: %s", line.rstrip("\r"))

    async def _wait(self) -> None:
        assert self._process is not None
        status = await self._process.wait()
        if self._partial:
            self._log_output("\n")
        log.info("onBoot ended: %s", describe_exit(status))

    async def aclose(self) -> None:
        if self._process is not None and self._process.alive:
            await self._process.terminate_group()
        if self._waiter is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._waiter
