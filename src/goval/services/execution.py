"""The ``exec`` service (protocol §4.3): run commands one at a time and report how they ended.

Owns the channel's queue of commands (FIFO for ``blocking: true``, ``already running`` for
``blocking: false``), the one running child (stdin from ``input``, merged output broadcast
without a ref, paused while a peer lags), the ``state`` broadcasts around it, and killing its
whole process group on ``clear{}`` (→ ``signal: killed``) or when the channel is destroyed.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence

from goval._proto.api_pb2 import Command, Exec, Running, State, Stopped
from goval.errors import ProcessError
from goval.host import PipeProcess, describe_exit
from goval.identity import Role
from goval.services.backpressure import LagGate
from goval.services.base import Deferred, Peer, Reply, Service, ServiceContext, ok
from goval.services.process_env import (
    process_cwd,
    process_environment,
    run_before_process_start,
)
from goval.storage import load_dotreplit

__all__ = ["ExecService"]

# Destroying the channel: SIGTERM to the group, SIGKILL to whatever is left after this long.
DESTROY_GRACE = 2.0


class ExecService(Service):
    """``exec{args, env, blocking}`` → Running, output, ok/error to the requester, Stopped."""

    name = "exec"
    min_role = Role.WRITE

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        # asyncio.Lock hands itself to waiters in arrival order: that is the FIFO of §4.3.
        self._turn = asyncio.Lock()
        self._jobs = 0  # running + queued
        self._process: PipeProcess | None = None
        self._early_input: list[str] = []
        self._closed = False

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "exec":
                return self._submit(command.exec)
            case "input":
                if self._process is not None:
                    self._process.write(command.input)
                elif self._jobs:
                    # Accepted but not started yet (the spawn is on its way): not idle.
                    self._early_input.append(command.input)
                return None
            case "clear":
                await self._kill_current()
                return ok()
        return await super().handle(peer, command, body)

    async def aclose(self) -> None:
        self._closed = True
        process = self._process
        if process is not None:
            await process.terminate_group(DESTROY_GRACE)

    # -- running -------------------------------------------------------------------------------
    def _submit(self, request: Exec) -> Deferred:
        argv = list(request.args)
        if not argv:
            raise ProcessError("missing command")
        if self._jobs and not request.blocking:
            raise ProcessError("already running")
        # The environment is read now, so a broken .replit fails the request at once.
        resources = self.ctx.resources
        env = process_environment(resources, load_dotreplit(resources.workspace), request.env)
        self._jobs += 1
        return Deferred(self._queued(argv, env))

    async def _queued(self, argv: Sequence[str], env: dict[str, str]) -> Command:
        try:
            async with self._turn:
                return await self._run(argv, env)
        finally:
            self._jobs -= 1
            if not self._jobs:
                self._early_input.clear()

    async def _run(self, argv: Sequence[str], env: dict[str, str]) -> Command:
        if self._closed:
            raise ProcessError("signal: killed")  # destroyed while queued: never started
        channel = self.ctx.channel
        gate: LagGate | None = None

        def on_output(text: str) -> None:
            channel.broadcast(Command(output=text))
            if gate is not None:
                gate.check()

        await run_before_process_start(self.ctx.server)
        resources = self.ctx.resources
        process = await PipeProcess.start(
            argv,
            cwd=process_cwd(resources),
            env=env,
            limits=resources.process_defaults.limits,
            on_output=on_output,
        )
        gate = LagGate(channel, process.pause_reading, process.resume_reading)
        self._process = process
        for text in self._early_input:
            process.write(text)
        self._early_input.clear()
        self._broadcast_state(Running)
        try:
            code = await process.wait()
        finally:
            gate.close()
            self._process = None
        # The router sends our return value as soon as this coroutine returns; Stopped must
        # follow that final reply (§3.1), and the next queued command's Running must follow
        # Stopped: call_soon runs after the reply and before the lock's next waiter wakes.
        asyncio.get_running_loop().call_soon(self._broadcast_state, Stopped)
        return ok() if code == 0 else Command(error=describe_exit(code))

    async def _kill_current(self) -> None:
        process = self._process
        if process is not None:
            await process.terminate_group(0.0, signal.SIGKILL)

    def _broadcast_state(self, state: State.ValueType) -> None:
        self.ctx.channel.broadcast(Command(state=state))
