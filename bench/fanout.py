"""Chat fan-out benchmark (issue 6): one chatMessage to N attached sessions.

A goval server runs in its own process (``goval serve --no-auth``); this process holds N
receiving sessions plus one sender, all attached to the named chat channel, as bare aiohttp
WebSockets (the client library would add its own overhead). For each message we time from just
before the sender's frame is written until the last receiver has read its copy, and report
p50/p99/max of that over the messages, and the server's CPU time (utime + stime from /proc)
per delivered copy. Receivers only note the arrival time of each frame, so client-side work is
small, but all clients share one event loop: the figure includes their scheduling.

Run: ``.venv/bin/python bench/fanout.py [--sessions 200] [--messages 50] [--profile cpu.pb.gz]``
(``--profile`` also asks the server's ``pprof`` channel for a CPU profile of the run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from goval._proto.api_pb2 import ChatMessage, Command, OpenChannel

CLK_TCK = os.sysconf("SC_CLK_TCK")
WARMUP = 3  # messages before timing starts (first-use costs: SQLite pages, code paths)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@contextlib.asynccontextmanager
async def goval_server() -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="goval-fanout-") as workspace:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "goval.cli.main", "--log-level", "warning", "serve", workspace,
            "--no-auth", "--port", str(port), stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                for _ in range(200):
                    with contextlib.suppress(aiohttp.ClientError):
                        async with http.get(url + "/metrics"):
                            break
                    await asyncio.sleep(0.05)
            yield f"ws://127.0.0.1:{port}/wsv2/local", process.pid
        finally:
            process.terminate()
            await process.wait()


async def attach(
    http: aiohttp.ClientSession, url: str
) -> tuple[aiohttp.ClientWebSocketResponse, int]:
    """Connect, wait for READY, attach to the chat; returns the socket and the channel id."""
    ws = await http.ws_connect(url, max_msg_size=0)
    while True:
        ready = Command.FromString(await ws.receive_bytes())
        if ready.WhichOneof("body") == "containerState":
            break
    opening = Command(ref="open")
    opening.openChan.service = "chat"
    opening.openChan.name = "chat"
    opening.openChan.action = OpenChannel.ATTACH_OR_CREATE
    await ws.send_bytes(opening.SerializeToString())
    while True:
        reply = Command.FromString(await ws.receive_bytes())
        if reply.ref == "open":
            return ws, reply.openChanRes.id


async def receive(ws: aiohttp.ClientWebSocketResponse, arrivals: list[float]) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.BINARY:
            arrivals.append(time.perf_counter())


async def start_profile(
    http: aiohttp.ClientSession, url: str, seconds: int
) -> tuple[aiohttp.ClientWebSocketResponse, asyncio.Future[bytes]]:
    """Ask the pprof channel for a CPU profile; the future resolves with its bytes."""
    ws, _ = await attach(http, url)
    opening = Command(ref="pprof")
    opening.openChan.service = "pprof"
    await ws.send_bytes(opening.SerializeToString())
    while (reply := Command.FromString(await ws.receive_bytes())).ref != "pprof":
        pass
    request = Command(channel=reply.openChanRes.id, ref="profile")
    request.pprofRequest.pprofCpuProfileRequest.seconds = seconds
    await ws.send_bytes(request.SerializeToString())

    async def wait() -> bytes:
        while (reply := Command.FromString(await ws.receive_bytes())).ref != "profile":
            pass
        return reply.pprofResponse.profile

    return ws, asyncio.ensure_future(wait())


async def run(sessions: int, messages: int, profile: str | None) -> None:
    unlimited = aiohttp.TCPConnector(limit=0)  # the default pool stops at 100 sockets
    async with goval_server() as (url, pid), aiohttp.ClientSession(connector=unlimited) as http:
        receivers = [await attach(http, url) for _ in range(sessions)]
        sender, channel = await attach(http, url)
        arrivals: list[list[float]] = [[] for _ in receivers]
        readers = [
            asyncio.ensure_future(receive(ws, a))
            for (ws, _), a in zip(receivers, arrivals, strict=True)
        ]
        latencies: list[float] = []
        firsts: list[float] = []
        if profile:
            _, profiled = await start_profile(http, url, 3)
        cpu_before = cpu_seconds(pid)
        for n in range(WARMUP + messages):
            frame = Command(channel=channel, chatMessage=ChatMessage(text=f"message {n}"))
            sent = time.perf_counter()
            await sender.send_bytes(frame.SerializeToString())
            while min(len(a) for a in arrivals) <= n:
                await asyncio.sleep(0.0005)
            if n == WARMUP - 1:
                cpu_before = cpu_seconds(pid)
            elif n >= WARMUP:
                latencies.append(max(a[n] for a in arrivals) - sent)
                firsts.append(min(a[n] for a in arrivals) - sent)
        cpu = cpu_seconds(pid) - cpu_before
        if profile:
            data = await profiled
            await asyncio.to_thread(Path(profile).write_bytes, data)
        for reader in readers:
            reader.cancel()
        for ws, _ in [*receivers, (sender, 0)]:
            await ws.close()
    millis = sorted(latency * 1000 for latency in latencies)
    p99 = millis[min(len(millis) - 1, int(len(millis) * 0.99))]
    delivered = sessions * messages
    print(f"fan-out of one chatMessage to {sessions} sessions, {messages} messages")
    print(
        f"  time until the last session has it: p50 {statistics.median(millis):.2f} ms,"
        f" p99 {p99:.2f} ms, max {millis[-1]:.2f} ms; worst five {[round(m) for m in millis[-5:]]}"
    )
    first = statistics.median(firsts) * 1000
    print(f"  time until the first session has it: p50 {first:.2f} ms")
    print(f"  server CPU: {cpu * 1e6 / delivered:.1f} µs per delivered message ({cpu:.2f} s total)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--profile", default=None, help="write the server's CPU profile here")
    args = parser.parse_args()
    asyncio.run(run(args.sessions, args.messages, args.profile))


if __name__ == "__main__":
    main()
