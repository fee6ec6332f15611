"""Nothing acknowledged is lost: ``kill -9`` of a real ``goval serve`` right after an edit's ok."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from goval.client import connect
from goval.ot import Delete
from tests.services.ot_kit import edit, fetch, flush, link


@contextlib.asynccontextmanager
async def goval_serve(workspace: Path, state: Path) -> AsyncIterator[tuple[int, str]]:
    """A ``goval serve`` subprocess on a free port; yields (pid, websocket URL)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "goval.cli.main",
        "--log-level",
        "warning",
        "serve",
        str(workspace),
        "--port",
        "0",
        "--state-dir",
        str(state),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        url = ""
        async with asyncio.timeout(15):
            while not url:
                line = (await process.stdout.readline()).decode()
                assert line, "goval serve exited before printing its URL"
                found = re.search(r"websocket: (\S+)", line)
                url = found.group(1) if found else ""
        yield process.pid, url
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await process.wait()


async def test_an_acknowledged_edit_survives_kill_9_in_text_and_history(tmp_path: Path) -> None:
    workspace, state = tmp_path / "ws", tmp_path / "state"
    workspace.mkdir()
    (workspace / "notes.txt").write_text("hello\n")

    async with goval_serve(workspace, state) as (pid, url):
        async with connect(url, reconnect=False) as client:
            channel = await client.open("ot", "ot:notes.txt")
            await channel.request(link("notes.txt"))
            for n in range(1, 20):
                await channel.request(edit(n, [5, str(n % 10)]))
            await channel.request(edit(20, [Delete(1), "J"]))  # acknowledged ...
            os.kill(pid, signal.SIGKILL)  # ... and the server dies at once

    assert (workspace / "notes.txt").read_text() == "hello\n"  # never written: no time for it
    async with goval_serve(workspace, state) as (_, url), connect(url, reconnect=False) as client:
        channel = await client.open("ot", "ot:notes.txt")
        await channel.receive()  # greeting
        await channel.request(link("notes.txt"))
        status = await channel.receive()
        # The file still held version 1, an older version of ours: not a change on disk.
        expected = "Jello" + "".join(str(n % 10) for n in range(19, 0, -1)) + "\n"
        assert status.ot.version == 21
        assert status.ot.ops[0].insert == expected
        history = (await channel.request(fetch(0, 0))).otFetchResponse.packets
        assert [p.version for p in history] == list(range(1, 22))
        last = history[-1]
        assert [(c.delete, c.insert) for c in last.ops] == [(1, ""), (0, "J")]
        await channel.request(flush())
        assert (workspace / "notes.txt").read_text() == expected
