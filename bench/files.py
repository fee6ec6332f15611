"""File benchmark (issue 3): goval's gcsfiles vs Jupyter Server's contents API, same run.

Both servers run as their own processes on temporary directories; the client (this process)
does one request at a time, so the figures are latency-bound ops/s as an editor sees them:
10 KiB and 1 MiB writes and reads, and a readdir of 10,000 entries. goval speaks gcsfiles over
one WebSocket; Jupyter gets the same bytes as base64 JSON over HTTP keep-alive (its API).

Jupyter Server is a benchmark-only dependency (the ``bench`` extra):
``.venv/bin/pip install jupyter_server``. Run:
``.venv/bin/python bench/files.py [--seconds 3] [--entries 10000]``.
Targets: ≥ 6x Jupyter at 10 KiB, ≥ 2.5x at 1 MiB, readdir of 10,000 entries < 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp

from goval._proto.api_pb2 import Command, File
from goval.client import Channel, connect

KiB = 1024
MiB = 1024 * KiB
Op = Callable[[int], Awaitable[None]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not come up")
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def process(*argv: str) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def rate(op: Op, seconds: float) -> float:
    """Ops per second of ``op`` run back to back for about ``seconds``."""
    await op(0)  # warm-up
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        await op(count)
        count += 1
    return count / elapsed


async def median_ms(op: Op, rounds: int = 7) -> float:
    await op(0)
    times = []
    for i in range(rounds):
        start = time.perf_counter()
        await op(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# -- goval ----------------------------------------------------------------------------------------
def goval_ops(channel: Channel, blob: bytes) -> tuple[Op, Op]:
    async def write(i: int) -> None:
        await channel.request(Command(write=File(path=f"bench/{i % 8}.bin", content=blob)))

    async def read(i: int) -> None:
        reply = await channel.request(Command(read=File(path=f"bench/{i % 8}.bin")))
        assert len(reply.file.content) == len(blob)

    return write, read


async def bench_goval(root: Path, seconds: float, sizes: list[int]) -> dict[str, float]:
    port = free_port()
    results: dict[str, float] = {}
    argv = [sys.executable, "-m", "goval.cli.main", "--log-level", "warning", "serve"]
    async with process(*argv, str(root), "--port", str(port), "--no-auth"):
        await wait_http(f"http://127.0.0.1:{port}/fs/x")
        async with connect(f"ws://127.0.0.1:{port}/wsv2/local", reconnect=False) as client:
            channel = await client.open("gcsfiles")
            for size in sizes:
                write, read = goval_ops(channel, os.urandom(size))
                results[f"write {size // KiB} KiB"] = await rate(write, seconds)
                results[f"read {size // KiB} KiB"] = await rate(read, seconds)

            async def readdir(_: int) -> None:
                reply = await channel.request(Command(readdir=File(path="many")))
                assert len(reply.files.files) >= 10_000

            results["readdir ms"] = await median_ms(readdir)
    return results


# -- Jupyter Server -------------------------------------------------------------------------------
def jupyter_ops(http: aiohttp.ClientSession, base: str, blob: bytes) -> tuple[Op, Op]:
    body = {"type": "file", "format": "base64", "content": base64.b64encode(blob).decode()}

    async def write(i: int) -> None:
        async with http.put(f"{base}/api/contents/bench/{i % 8}.bin", json=body) as response:
            assert response.status in (200, 201), await response.text()
            await response.read()

    async def read(i: int) -> None:
        url = f"{base}/api/contents/bench/{i % 8}.bin?type=file&format=base64&content=1"
        async with http.get(url) as response:
            assert response.status == 200
            model = await response.json()
            assert len(base64.b64decode(model["content"])) == len(blob)

    return write, read


async def bench_jupyter(root: Path, seconds: float, sizes: list[int]) -> dict[str, float]:
    port = free_port()
    argv = [
        sys.executable, "-m", "jupyter_server", f"--ServerApp.root_dir={root}",
        f"--port={port}", "--ip=127.0.0.1", "--no-browser",
        "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
        "--allow-root",
    ]  # fmt: skip
    results: dict[str, float] = {}
    base = f"http://127.0.0.1:{port}"
    async with process(*argv):
        await wait_http(f"{base}/api/status")
        async with aiohttp.ClientSession() as http:
            async with http.put(f"{base}/api/contents/bench", json={"type": "directory"}):
                pass
            for size in sizes:
                write, read = jupyter_ops(http, base, os.urandom(size))
                results[f"write {size // KiB} KiB"] = await rate(write, seconds)
                results[f"read {size // KiB} KiB"] = await rate(read, seconds)

            async def readdir(_: int) -> None:
                async with http.get(f"{base}/api/contents/many?content=1") as response:
                    assert len((await response.json())["content"]) >= 10_000

            results["readdir ms"] = await median_ms(readdir, rounds=3)
    return results


def populate(root: Path, entries: int) -> None:
    many = root / "many"
    many.mkdir(parents=True)
    for i in range(entries):
        (many / f"file-{i:05d}.txt").write_bytes(b"x")
    (root / "bench").mkdir()


def report(goval: dict[str, float], jupyter: dict[str, float]) -> None:
    print(f"{'operation':<16}{'goval':>14}{'jupyter':>14}{'ratio':>9}")
    for key in goval:
        if key == "readdir ms":
            continue
        ratio = goval[key] / jupyter[key]
        print(f"{key + ' ops/s':<16}{goval[key]:>14.1f}{jupyter[key]:>14.1f}{ratio:>8.1f}x")
    g, j = goval["readdir ms"], jupyter["readdir ms"]
    print(f"{'readdir 10k ms':<16}{g:>14.1f}{j:>14.1f}{j / g:>8.1f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--entries", type=int, default=10_000)
    args = parser.parse_args()
    sizes = [10 * KiB, 1 * MiB]
    with tempfile.TemporaryDirectory() as g, tempfile.TemporaryDirectory() as j:
        for root in (Path(g), Path(j)):
            populate(root, args.entries)
        goval = await bench_goval(Path(g), args.seconds, sizes)
        jupyter = await bench_jupyter(Path(j), args.seconds, sizes)
    report(goval, jupyter)


if __name__ == "__main__":
    asyncio.run(main())
