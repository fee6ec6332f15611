"""Drive real @replit/crosis clients from pytest through ``driver.mjs`` (a Node subprocess).

The driver speaks JSON lines: :meth:`CrosisDriver.call` sends one operation and awaits its reply,
:meth:`CrosisDriver.event` waits for an unsolicited event (crosis callbacks, socket closes).
Every wait is bounded, so a client that never gets what it expects fails the test instead of
hanging it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

__all__ = ["REPO_ROOT", "CrosisDriver", "DriverError", "crosis_driver"]

REPO_ROOT = Path(__file__).resolve().parents[2]
DRIVER_SCRIPT = Path(__file__).resolve().with_name("driver.mjs")
WAIT_SECONDS = 10.0

Message = dict[str, Any]


class DriverError(AssertionError):
    """An operation failed in the driver, or the expected reply or event never came."""


class CrosisDriver:
    """One ``node driver.mjs`` process hosting any number of labelled crosis clients."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[Message]] = {}
        self.events: list[Message] = []
        self._new_event = asyncio.Condition()
        self._stderr = bytearray()
        self._reader = asyncio.get_running_loop().create_task(self._read_stdout())
        self._err_reader = asyncio.get_running_loop().create_task(self._read_stderr())

    async def call(self, op: str, within: float = WAIT_SECONDS, **args: Any) -> Message:
        """Run one operation; returns its reply, raises :class:`DriverError` if it failed."""
        return await self.submit(op, within, **args)

    def submit(self, op: str, within: float = WAIT_SECONDS, **args: Any) -> asyncio.Task[Message]:
        """Send one operation now (before any later one); the task awaits its reply."""
        op_id = next(self._ids)
        reply: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._replies[op_id] = reply
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"id": op_id, "op": op, **args}).encode() + b"\n")
        return asyncio.get_running_loop().create_task(self._reply(op_id, reply, op, within, args))

    async def _reply(
        self, op_id: int, reply: asyncio.Future[Message], op: str, within: float, args: Message
    ) -> Message:
        assert self._process.stdin is not None
        try:
            await self._process.stdin.drain()
            message = await asyncio.wait_for(reply, within)
        except TimeoutError:
            raise DriverError(
                f"no reply to {op} {args} within {within}s{self._context()}"
            ) from None
        finally:
            self._replies.pop(op_id, None)
        if not message["ok"]:
            raise DriverError(f"{op} failed: {message['error']}{self._context()}")
        return message

    async def event(self, kind: str, within: float = WAIT_SECONDS, **fields: Any) -> Message:
        """The first event of ``kind`` whose fields include ``fields`` (waits for it to come)."""

        def find() -> Message | None:
            for event in self.events:
                if event["event"] == kind and all(event.get(k) == v for k, v in fields.items()):
                    return event
            return None

        async with self._new_event:
            try:
                found = await asyncio.wait_for(self._new_event.wait_for(find), within)
            except TimeoutError:
                raise DriverError(
                    f"no {kind} event with {fields} within {within}s{self._context()}"
                ) from None
        assert found is not None
        return found

    def find(self, kind: str, **fields: Any) -> list[Message]:
        """Every event so far of ``kind`` with ``fields``."""
        return [
            event
            for event in self.events
            if event["event"] == kind and all(event.get(k) == v for k, v in fields.items())
        ]

    async def aclose(self) -> None:
        if self._process.returncode is None:
            with contextlib.suppress(DriverError, ConnectionError):
                await self.call("exit", within=2.0)
            try:
                await asyncio.wait_for(self._process.wait(), 5.0)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        await self._reader
        await self._err_reader

    def _context(self) -> str:
        recent = "\n  ".join(json.dumps(event) for event in self.events[-15:])
        stderr = self._stderr.decode(errors="replace")[-2000:]
        return f"\nrecent events:\n  {recent}\nnode stderr:\n{stderr}"

    async def _read_stdout(self) -> None:
        assert self._process.stdout is not None
        async for line in self._process.stdout:
            message: Message = json.loads(line)
            if "reply" in message:
                waiter = self._replies.get(message["reply"])
                if waiter is not None and not waiter.done():
                    waiter.set_result(message)
                continue
            async with self._new_event:
                self.events.append(message)
                self._new_event.notify_all()

    async def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        async for line in self._process.stderr:
            self._stderr.extend(line)


@contextlib.asynccontextmanager
async def crosis_driver(node: str) -> AsyncIterator[CrosisDriver]:
    """Start ``driver.mjs`` with the given ``node`` binary; stops it (and its clients) on exit."""
    process = await asyncio.create_subprocess_exec(
        node,
        str(DRIVER_SCRIPT),
        cwd=REPO_ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    driver = CrosisDriver(process)
    try:
        await driver.event("ready")
        yield driver
    finally:
        await driver.aclose()
