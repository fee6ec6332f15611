"""The ``eval`` service (protocol §4.6): a persistent Python interpreter per channel.

Owns the channel's FIFO of evals and the state around each (``state: Running`` S→*, output S→*,
``result``/``error`` to the requester, ``state: Stopped`` S→*), hints matched on each eval's
output, ``input`` to the interpreter's stdin, ``clear{}`` interrupting the running eval, and
the interpreter's life: started on the first eval, started again after it died, its process
group killed when the channel is destroyed. The interpreter itself is ``interpreter``'s.
"""

from __future__ import annotations

import asyncio

from goval._proto.api_pb2 import Command, Running, State, Stopped
from goval.errors import GovalError, ProcessError
from goval.identity import Role
from goval.services.backpressure import LagGate
from goval.services.base import Deferred, Peer, Reply, Service, ServiceContext, ok
from goval.services.hints import BUILTIN_HINTS, HintMatcher
from goval.services.interpreter import Interpreter
from goval.services.process_env import process_cwd, process_environment, run_before_process_start
from goval.storage import DotReplit, load_dotreplit

__all__ = ["EvalService"]

DESTROY_GRACE = 2.0


class EvalService(Service):
    """``eval: "<code>"`` → Running, output, result/error to the requester, Stopped."""

    name = "eval"
    min_role = Role.WRITE

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self._turn = asyncio.Lock()  # FIFO: waiters acquire in arrival order
        self._interpreter: Interpreter | None = None
        self._gate: LagGate | None = None
        self._hints = HintMatcher(BUILTIN_HINTS)
        self._running = False
        self._closed = False

    async def attach(self, peer: Peer) -> None:
        self.ctx.channel.send(peer, Command(state=Running if self._running else Stopped))

    async def handle(self, peer: Peer, command: Command, body: str) -> Reply:
        match body:
            case "eval":
                return Deferred(self._queued(command.eval))
            case "input":
                if self._interpreter is not None:
                    self._interpreter.process.write(command.input)
                return None
            case "clear":
                if self._running and self._interpreter is not None:
                    self._interpreter.process.interrupt()
                return ok()
        return await super().handle(peer, command, body)

    async def aclose(self) -> None:
        self._closed = True
        if self._gate is not None:
            self._gate.close()
        if self._interpreter is not None:
            await self._interpreter.aclose(DESTROY_GRACE)
            self._interpreter = None

    # -- evaluating --------------------------------------------------------------------------
    async def _queued(self, code: str) -> Command:
        async with self._turn:
            if self._closed:
                raise ProcessError("signal: killed")  # destroyed while queued: never ran
            interpreter = await self._ready_interpreter()
            self._running = True
            self._broadcast_state(Running)
            try:
                kind, text = await interpreter.evaluate(code)
                reply = Command(result=text) if kind == "result" else Command(error=text)
            except ProcessError as exc:
                # The interpreter died (os._exit, a signal): the next eval gets a fresh one.
                reply = Command(error=str(exc))
                await self._forget_interpreter()
            finally:
                self._running = False
            # A traceback is not output here, but it is what the user reads: match it too.
            if reply.WhichOneof("body") == "error":
                self._broadcast_hints(self._hints.feed(reply.error + "\n"))
            self._broadcast_hints(self._hints.finish())
            # Stopped follows the final reply, which the router sends when we return (§3.1).
            asyncio.get_running_loop().call_soon(self._broadcast_state, Stopped)
            return reply

    async def _ready_interpreter(self) -> Interpreter:
        dotreplit = self._dotreplit()
        self._hints = HintMatcher((*dotreplit.hints, *BUILTIN_HINTS))
        if self._interpreter is not None and self._interpreter.alive:
            return self._interpreter
        await self._forget_interpreter()
        await run_before_process_start(self.ctx.server)
        resources = self.ctx.resources
        interpreter = await Interpreter.start(
            cwd=process_cwd(resources),
            env=process_environment(resources, dotreplit),
            on_output=self._on_output,
            limits=resources.process_defaults.limits,
        )
        process = interpreter.process
        self._gate = LagGate(self.ctx.channel, process.pause_reading, process.resume_reading)
        self._interpreter = interpreter
        return interpreter

    async def _forget_interpreter(self) -> None:
        if self._gate is not None:
            self._gate.close()
            self._gate = None
        if self._interpreter is not None:
            await self._interpreter.aclose(0.5)
            self._interpreter = None

    def _dotreplit(self) -> DotReplit:
        try:
            return load_dotreplit(self.ctx.resources.workspace)
        except GovalError:
            return DotReplit()  # a broken .replit must not stop the REPL

    def _on_output(self, text: str) -> None:
        self.ctx.channel.broadcast(Command(output=text))
        self._broadcast_hints(self._hints.feed(text))
        if self._gate is not None:
            self._gate.check()

    def _broadcast_hints(self, texts: list[str]) -> None:
        for text in texts:
            command = Command()
            command.hint.text = text
            self.ctx.channel.broadcast(command)

    def _broadcast_state(self, state: State.ValueType) -> None:
        self.ctx.channel.broadcast(Command(state=state))
