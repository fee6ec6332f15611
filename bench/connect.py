"""Connection benchmark (issue 2): goval vs a bare aiohttp WebSocket echo server, same run.

200 clients each connect, reach READY, open a channel and ping 100 times; we report the
handshake time (TCP connect → READY) and ping RTT p50/p99. The peer is a bare aiohttp echo
server answering the same frames, so the ratio shows goval's own overhead. Then 1,000 idle
connections are held and the server's RSS growth per connection is reported.

Both servers run in their own processes; the clients share this one. Run: ``make bench`` or
``.venv/bin/python bench/connect.py [--clients 200] [--pings 100] [--idle 1000]``.
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

from goval._proto.api_pb2 import Command, OpenChannel

ECHO_SERVER = """
import sys
from aiohttp import web

async def echo(request):
    ws = web.WebSocketResponse(max_msg_size=32 << 20)
    await ws.prepare(request)
    async for message in ws:
        await ws.send_bytes(message.data)
    return ws

app = web.Application()
app.router.add_get("/{tail:.*}", echo)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def wait_listening(port: int) -> None:
    for _ in range(200):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


@contextlib.asynccontextmanager
async def server_process(kind: str) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    with tempfile.TemporaryDirectory() as workspace:
        if kind == "goval":
            argv = [sys.executable, "-m", "goval.cli.main", "--log-level", "warning", "serve",
                    workspace, "--port", str(port), "--no-auth"]  # fmt: skip
        else:
            argv = [sys.executable, "-c", ECHO_SERVER, str(port)]
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            await wait_listening(port)
            yield f"ws://127.0.0.1:{port}/wsv2/local", process.pid
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 10)


def ping_frame(ref: str) -> bytes:
    command = Command(ref=ref)
    command.ping.SetInParent()
    return command.SerializeToString()


def open_frame() -> bytes:
    command = Command(ref="open")
    command.openChan.service = "null"
    command.openChan.action = OpenChannel.CREATE
    return command.SerializeToString()


async def read_until_ready(ws: aiohttp.ClientWebSocketResponse) -> None:
    while True:
        message = await ws.receive()
        command = Command()
        command.ParseFromString(message.data)
        if command.WhichOneof("body") == "containerState":
            return


async def one_client(
    http: aiohttp.ClientSession, url: str, pings: int, goval: bool
) -> tuple[float, list[float]]:
    started = time.perf_counter()
    async with http.ws_connect(url) as ws:
        if goval:
            await read_until_ready(ws)
        handshake = time.perf_counter() - started
        await ws.send_bytes(open_frame())
        await ws.receive()
        rtts = []
        for index in range(pings):
            frame = ping_frame(str(index))
            sent = time.perf_counter()
            await ws.send_bytes(frame)
            await ws.receive()
            rtts.append(time.perf_counter() - sent)
        return handshake, rtts


async def measure_pings(kind: str, clients: int, pings: int) -> dict[str, float]:
    async with server_process(kind) as (url, _pid):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            results = await asyncio.gather(
                *(one_client(http, url, pings, kind == "goval") for _ in range(clients))
            )
    handshakes = sorted(h for h, _ in results)
    rtts = sorted(r for _, rs in results for r in rs)
    return {
        "handshake_p50_ms": statistics.median(handshakes) * 1000,
        "handshake_p99_ms": handshakes[int(len(handshakes) * 0.99) - 1] * 1000,
        "rtt_p50_ms": statistics.median(rtts) * 1000,
        "rtt_p99_ms": rtts[int(len(rtts) * 0.99) - 1] * 1000,
    }


async def measure_idle(kind: str, count: int) -> float:
    async with server_process(kind) as (url, pid):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            warm = await http.ws_connect(url)
            if kind == "goval":
                await read_until_ready(warm)
            await asyncio.sleep(0.5)
            before = rss_kib(pid)
            sockets = []
            for _ in range(count):
                ws = await http.ws_connect(url)
                if kind == "goval":
                    await read_until_ready(ws)
                sockets.append(ws)
            await asyncio.sleep(1.0)
            after = rss_kib(pid)
            for ws in sockets:
                await ws.close()
            await warm.close()
    return (after - before) / count


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--pings", type=int, default=100)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()
    print(f"{args.clients} clients x {args.pings} pings, {args.idle} idle connections; "
          f"{os.cpu_count()} cores")  # fmt: skip
    echo = await measure_pings("echo", args.clients, args.pings)
    goval = await measure_pings("goval", args.clients, args.pings)
    print(f"{'metric':<20}{'bare echo':>12}{'goval':>12}{'ratio':>8}")
    for key in echo:
        print(f"{key:<20}{echo[key]:>12.3f}{goval[key]:>12.3f}{goval[key] / echo[key]:>8.2f}")
    idle_goval = await measure_idle("goval", args.idle)
    idle_echo = await measure_idle("echo", args.idle)
    print(f"idle RSS per connection: goval {idle_goval:.1f} KiB, bare echo {idle_echo:.1f} KiB")
    print("targets: rtt_p50 ratio <= 1.5, goval idle RSS <= 100 KB per connection")


if __name__ == "__main__":
    asyncio.run(main())
