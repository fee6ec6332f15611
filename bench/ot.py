"""Benchmark of OT end to end: the engine, per-edit cost by document size, a real server's rates.

Run from the repository root: ``.venv/bin/python bench/ot.py`` (``--quick`` for shorter runs).
Prints, in one run:

1. transform + apply throughput, goval.ot vs Node ot-text-unicode on the same random cases, and
   the per-edit cost of ``Text.apply`` + ``crc32`` on a 10 KB vs an 8 MiB document (both from
   ``bench/ot_engine.py``);
2. accepted edits/s on one document with 10 editors against a real ``goval serve`` subprocess:
   each editor keeps one op in flight, like the 2020 client, and sends the next on its ok;
3. echo latency (send → own packet back) p50/p99 with 50 editors typing at a steady rate.

The editors are raw WebSocket clients in this process; they share the machine's cores with the
server, so the server's own CPU time per edit (from /proc) is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from goval._proto.api_pb2 import Command, OpenChannel

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ot_engine  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]


class Editor:
    """One raw session on ``ot:doc.txt`` that inserts at the start, one op in flight."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, number: int) -> None:
        self.ws = ws
        self.channel = 0
        self.version = 0
        self.acked = 0
        self.latencies: list[float] = []
        # Nonces identify an editor's own echo among everyone's packets: unique per editor.
        self._nonce = number * 1_000_000
        self._sent_at = 0.0
        self._ok = asyncio.Event()

    async def receive(self) -> Command:
        message = await self.ws.receive()
        if message.type != aiohttp.WSMsgType.BINARY:
            raise ConnectionError(f"socket closed: {message.type}")
        command = Command()
        command.ParseFromString(message.data)
        return command

    async def join(self, link: bool) -> None:
        while (await self.receive()).WhichOneof("body") != "containerState":
            pass
        opening = Command(ref="open")
        opening.openChan.service = "ot"
        opening.openChan.name = "ot:doc.txt"
        opening.openChan.action = OpenChannel.ATTACH_OR_CREATE
        await self.ws.send_bytes(opening.SerializeToString())
        self.channel = (await self.receive()).openChanRes.id
        greeting = (await self.receive()).otstatus
        self.version = greeting.version
        if link:
            command = Command(channel=self.channel, ref="link")
            command.otLinkFile.file.path = "doc.txt"
            await self.ws.send_bytes(command.SerializeToString())
            self.version = (await self.receive()).ot.version
            await self.receive()  # ok

    async def read(self) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while True:
                command = await self.receive()
                body = command.WhichOneof("body")
                if body == "ot":
                    self.version = max(self.version, command.ot.version)
                    if command.ot.nonce == self._nonce:
                        self.latencies.append(time.perf_counter() - self._sent_at)
                elif body == "ok":
                    self.acked += 1
                    self._ok.set()

    async def send_one(self) -> None:
        self._nonce += 1
        command = Command(channel=self.channel, ref=str(self._nonce))
        command.ot.spookyVersion = self.version
        command.ot.version = self.version + 1
        command.ot.nonce = self._nonce
        command.ot.ops.add(insert="x")
        self._ok.clear()
        self._sent_at = time.perf_counter()
        await self.ws.send_bytes(command.SerializeToString())
        await self._ok.wait()


@contextlib.asynccontextmanager
async def goval_serve() -> AsyncIterator[tuple[int, str]]:
    with tempfile.TemporaryDirectory(prefix="goval-bench-ot-") as tmp:
        workspace = Path(tmp) / "ws"
        workspace.mkdir()
        (workspace / "doc.txt").write_text("")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "goval.cli.main", "--log-level", "warning", "serve",
            str(workspace), "--port", "0", "--no-auth", "--state-dir", str(Path(tmp) / "state"),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        url = ""
        while not url:
            line = (await process.stdout.readline()).decode()
            if not line:
                raise RuntimeError("goval serve exited")
            found = re.search(r"websocket: (\S+)", line)
            url = found.group(1) if found else ""
        try:
            yield process.pid, url
        finally:
            process.terminate()
            await process.wait()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def editors(url: str, count: int) -> AsyncIterator[list[Editor]]:
    async with aiohttp.ClientSession() as http:
        sockets = [await http.ws_connect(url, max_msg_size=0) for _ in range(count)]
        team = [Editor(ws, number) for number, ws in enumerate(sockets, 1)]
        for n, editor in enumerate(team):
            await editor.join(link=n == 0)
        readers = [asyncio.create_task(editor.read()) for editor in team]
        try:
            yield team
        finally:
            for ws in sockets:
                await ws.close()
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)


async def throughput(count: int, seconds: float) -> tuple[float, float]:
    """Accepted edits/s with ``count`` editors flat out; and server CPU µs per edit."""
    async with goval_serve() as (pid, url), editors(url, count) as team:
        stop = time.perf_counter() + 0.5  # warm-up

        async def run(editor: Editor) -> None:
            while time.perf_counter() < stop:
                await editor.send_one()

        await asyncio.gather(*(run(e) for e in team))
        before, cpu_before = sum(e.acked for e in team), cpu_seconds(pid)
        started = time.perf_counter()
        stop = started + seconds
        await asyncio.gather(*(run(e) for e in team))
        elapsed = time.perf_counter() - started
        edits = sum(e.acked for e in team) - before
        cpu = cpu_seconds(pid) - cpu_before
        return edits / elapsed, cpu / edits * 1e6


async def latency(count: int, rate: float, seconds: float) -> tuple[float, float, int]:
    """Echo latency p50/p99 in ms with ``count`` editors each typing ``rate`` edits/s."""
    async with goval_serve() as (_, url), editors(url, count) as team:

        async def run(editor: Editor, rng: random.Random) -> None:
            stop = time.perf_counter() + seconds
            await asyncio.sleep(rng.random() / rate)
            while time.perf_counter() < stop:
                began = time.perf_counter()
                await editor.send_one()
                await asyncio.sleep(max(0.0, rng.expovariate(rate) - (time.perf_counter() - began)))

        await asyncio.gather(*(run(e, random.Random(n)) for n, e in enumerate(team)))
        samples = sorted(s for e in team for s in e.latencies[5:])  # skip warm-up
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        return statistics.median(samples) * 1e3, p99 * 1e3, len(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 5.0
    ot_engine.main()
    print()
    rate, cpu = asyncio.run(throughput(10, seconds))
    print("end to end, one document, goval serve subprocess (target >= 5,000 edits/s)")
    print(f"  10 editors, one op in flight each: {rate:,.0f} accepted edits/s")
    print(f"  server CPU per accepted edit (incl. 10 broadcasts): {cpu:.0f} µs")
    p50, p99, n = asyncio.run(latency(50, 4.0, seconds))
    print(f"  50 editors x 4 edits/s: echo latency p50 {p50:.2f} ms, p99 {p99:.2f} ms ({n} edits)")


if __name__ == "__main__":
    main()
