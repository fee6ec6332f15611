"""kill -9 of a real ``goval serve`` during a stream of gcsfiles writes: no torn or empty file."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sys
from pathlib import Path

from goval._proto.api_pb2 import Command, File
from goval.client import connect

SIZE = 256 * 1024
FILES = ("one.bin", "sub/two.bin", "sub/deeper/three.bin", "four.bin")
VERSIONS = (b"A" * SIZE, b"B" * SIZE, b"C" * SIZE)


async def start_server(workspace: Path) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "goval.cli.main", "serve", str(workspace), "--port", "0",
        "--no-auth",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line, "goval serve exited before printing its URL"
        if "websocket:" in line:
            return process, line.split()[-1]


async def write_forever(url: str, started: asyncio.Event) -> None:
    async with connect(url, reconnect=False) as client:
        channel = await client.open("gcsfiles")
        for i in range(1_000_000):
            content = VERSIONS[i % len(VERSIONS)]
            kind = "persist" if i % 4 == 0 else "write"
            batch = []
            for name in FILES:  # several requests in flight at once
                command = Command()
                getattr(command, kind).CopyFrom(File(path=name, content=content))
                batch.append(channel.request(command))
            await asyncio.gather(*batch)
            started.set()


def check_whole(workspace: Path, round_: int) -> None:
    for name in FILES:
        content = (workspace / name).read_bytes()
        assert content in VERSIONS, f"round {round_}: {name} is torn ({len(content)} bytes)"


async def test_kill_9_during_writes_leaves_every_file_fully_old_or_fully_new(
    tmp_path: Path,
) -> None:
    rng = random.Random(4242)
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(VERSIONS[0])
    for round_ in range(4):
        process, url = await start_server(tmp_path)
        started = asyncio.Event()
        writer = asyncio.create_task(write_forever(url, started))
        try:
            await asyncio.wait_for(started.wait(), 20)
            await asyncio.sleep(rng.uniform(0.01, 0.2))
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL
        finally:
            writer.cancel()
            with contextlib.suppress(BaseException):
                await writer
            if process.returncode is None:
                process.kill()
                await process.wait()
        check_whole(tmp_path, round_)
