"""One persistent Python interpreter child for the ``eval`` service, and the socket to it.

Owns starting ``python -u eval_driver.py <socket>`` (a private Unix socket in a fresh 0700
directory, removed once the driver has connected), sending it code and reading its reply, and
ending its process group. The child's stdin, stdout and stderr stay the user program's: output
goes to ``on_output`` like any pipe stream. It knows nothing of channels or the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from goval.errors import ProcessError
from goval.host import Limits, PipeProcess

__all__ = ["DRIVER", "Interpreter", "python_for"]

DRIVER = Path(__file__).with_name("eval_driver.py")
CONNECT_TIMEOUT = 15.0
# A reply line may carry a large repr; the wire limit (32 MiB) is the real bound.
REPLY_LIMIT = 64 * 1024 * 1024


def python_for(env: Mapping[str, str]) -> str:
    """The Python the workspace would run (``python3``/``python`` on its PATH), else ours."""
    for name in ("python3", "python"):
        found = shutil.which(name, path=env.get("PATH"))
        if found is not None:
            return found
    return sys.executable


class Interpreter:
    """A running driver. Create with ``await Interpreter.start(...)``."""

    def __init__(
        self,
        process: PipeProcess,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.process = process
        self._reader = reader
        self._writer = writer

    @classmethod
    async def start(
        cls,
        *,
        cwd: str,
        env: Mapping[str, str],
        on_output: Callable[[str], None],
        limits: Limits | None = None,
    ) -> Interpreter:
        """Start the driver and wait until it has connected back.

        Raises:
            ProcessError: the spawn error text, or how the child ended before connecting.
        """
        private = Path(tempfile.mkdtemp(prefix="goval-eval-"))
        path = private / "s"
        connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        connected = asyncio.get_running_loop().create_future()

        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if connected.done():
                writer.close()  # only the first connection is our driver's
            else:
                connected.set_result((reader, writer))

        server = await asyncio.start_unix_server(on_connect, str(path), limit=REPLY_LIMIT)
        try:
            argv = [python_for(env), "-u", str(DRIVER), str(path)]
            process = await PipeProcess.start(
                argv, cwd=cwd, env=env, on_output=on_output, limits=limits
            )
            reader, writer = await cls._wait_connected(process, connected)
        finally:
            server.close()
            shutil.rmtree(private, ignore_errors=True)
        return cls(process, reader, writer)

    @staticmethod
    async def _wait_connected(
        process: PipeProcess,
        connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]],
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        exited: asyncio.Future[int] = asyncio.ensure_future(process.wait())
        waited: set[asyncio.Future[object]] = {connected, exited}  # type: ignore[arg-type]
        try:
            await asyncio.wait(waited, timeout=CONNECT_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
        if connected.done():
            return connected.result()
        await process.terminate_group(0.5)
        raise ProcessError(f"python: {process.describe() or 'did not start'}")

    @property
    def alive(self) -> bool:
        return self.process.alive

    async def evaluate(self, code: str) -> tuple[str, str]:
        """Run ``code``; returns ``("result", repr)`` or ``("error", traceback)``.

        Output the code printed has been delivered to ``on_output`` when this returns.

        Raises:
            ProcessError: the interpreter died (``exit status N`` / ``signal: NAME``).
        """
        self._writer.write(json.dumps({"code": code}).encode() + b"\n")
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()
        line = await self._reader.readline()
        if not line:
            await self.process.wait()
            raise ProcessError(self.process.describe())
        self.process.flush_output()
        reply: dict[str, str] = json.loads(line)
        if "error" in reply:
            return "error", reply["error"]
        return "result", reply.get("result", "")

    async def aclose(self, grace: float = 2.0) -> None:
        """End the interpreter's whole process group and the socket."""
        self._writer.close()
        await self.process.terminate_group(grace)
