"""``goval shell`` and ``goval run`` as a user runs them: real processes on a real tty."""

from __future__ import annotations

import asyncio
import os
import pty
import sys
import termios
from pathlib import Path

from goval.client import Channel
from goval.testing import running_server
from tests.services.terminal_kit import eventually, isolate_shell


async def test_goval_shell_shares_a_named_shell_and_restores_the_tty(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs, rs.client() as client:
        isolate_shell(rs.server.resources, tmp_path / "home")
        master, slave = pty.openpty()
        cooked = termios.tcgetattr(slave)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "goval.cli.main",
            "shell",
            rs.url,
            "--token",
            rs.token(),
            "--name",
            "pair",
            stdin=slave,
            stdout=slave,
            stderr=slave,
        )
        seen = bytearray()
        loop = asyncio.get_running_loop()
        loop.add_reader(master, lambda: seen.extend(os.read(master, 65536)))
        try:
            # Another client on the same named shell sees what the CLI types.
            channel = await client.open("shell", "pair")
            output: list[str] = []
            reader = loop.create_task(_collect(channel, output))
            await eventually(lambda: b"#" in seen or b"$" in seen, timeout=15)
            os.write(master, b'echo typed-""in-cli\r')
            await eventually(lambda: b"typed-in-cli\r\n" in seen)
            await eventually(lambda: "typed-in-cli\r\n" in "".join(output))
            os.write(master, b"\x1d")  # Ctrl-] detaches
            assert await asyncio.wait_for(process.wait(), 10) == 0
            assert termios.tcgetattr(slave) == cooked
            reader.cancel()
        finally:
            loop.remove_reader(master)
            if process.returncode is None:
                process.kill()
                await process.wait()
            os.close(master)
            os.close(slave)


async def _collect(channel: Channel, output: list[str]) -> None:
    async for command in channel:
        output.append(command.output)


async def test_goval_run_streams_the_run_until_it_stops(tmp_path: Path) -> None:
    (tmp_path / ".replit").write_text('run = "echo run-$((6*7)); exit 4"\n')
    async with running_server(tmp_path) as rs:
        isolate_shell(rs.server.resources, tmp_path / "home")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "goval.cli.main",
            "run",
            rs.url,
            "--token",
            rs.token(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0, err
        assert b"run-42" in out and b"exit status 4" in out
