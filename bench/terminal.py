"""Terminal latency and throughput: goval's ``shell`` vs Jupyter Server's terminals vs a raw PTY.

Measures, in one run and on the same machine:
  * command round trip: type ``echo <marker>``, wait until the marker comes back (p50 / p99);
  * keystroke echo: type one character, wait for its echo (p50);
  * throughput of ``head -c 50M /dev/zero | base64`` through the terminal, against the rate at
    which this process reads the same command straight from a PTY master.

Needs ``.venv/bin/pip install jupyter_server terminado`` for the Jupyter side (skipped if absent).
Usage: ``.venv/bin/python bench/terminal.py [--rounds 200] [--megabytes 50]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from goval._proto.api_pb2 import Command, ResizeTerm
from goval.client import Channel, Client, connect

Send = Callable[[str], None]
Read = Callable[[], Awaitable[str]]


class Terminal:
    """A remote terminal as the bench sees it: send text, read text chunks."""

    def __init__(self, send: Send, read: Read) -> None:
        self.send = send
        self.read = read

    async def wait_for(self, needle: str, timeout: float = 120.0) -> int:
        """Read until ``needle`` appears; returns the characters read."""
        tail, total = "", 0
        async with asyncio.timeout(timeout):
            while needle not in tail:
                chunk = await self.read()
                total += len(chunk)
                tail = (tail + chunk)[-(len(needle) + len(chunk)) :]
        return total

    async def settle(self, quiet: float = 0.3) -> None:
        """Discard output until none arrives for ``quiet`` seconds."""
        while True:
            try:
                await asyncio.wait_for(self.read(), quiet)
            except TimeoutError:
                return


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up")
            await asyncio.sleep(0.2)


# -- the measurements ---------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def round_trips(term: Terminal, rounds: int) -> list[float]:
    times = []
    for i in range(rounds):
        marker = f"rt{i}z{secrets.token_hex(3)}"
        started = time.perf_counter()
        # The quotes make the typed echo differ from the output.
        term.send(f'echo {marker[:2]}""{marker[2:]}\r')
        await term.wait_for(marker + "\r\n")
        times.append(time.perf_counter() - started)
    return times


async def keystrokes(term: Terminal, count: int) -> list[float]:
    times = []
    for i in range(count):
        started = time.perf_counter()
        term.send("x")
        await term.wait_for("x")
        times.append(time.perf_counter() - started)
        if i % 20 == 19:
            term.send("\x15")  # Ctrl-U: start a fresh line
            await term.settle(0.1)
    term.send("\x15")
    await term.settle(0.2)
    return times


async def throughput(term: Terminal, megabytes: int) -> tuple[float, int]:
    started = time.perf_counter()
    term.send(f'head -c {megabytes}M /dev/zero | base64; echo thr""done\r')
    chars = await term.wait_for("thrdone\r\n", timeout=600)
    return time.perf_counter() - started, chars


def raw_pty_rate(megabytes: int) -> tuple[float, int]:
    """Read the same command's output straight from a PTY master in this process."""
    master, slave = os.openpty()
    started = time.perf_counter()
    child = subprocess.Popen(
        ["sh", "-c", f"head -c {megabytes}M /dev/zero | base64"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    total = 0
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            total += len(data)
    finally:
        os.close(master)
        child.wait()
    return time.perf_counter() - started, total


async def measure(name: str, term: Terminal, rounds: int, megabytes: int) -> dict[str, float]:
    await term.settle(1.0)
    await round_trips(term, 10)  # warm up
    rtt = await round_trips(term, rounds)
    keys = await keystrokes(term, rounds)
    seconds, chars = await throughput(term, megabytes)
    result = {
        "rtt_p50_ms": percentile(rtt, 0.5) * 1000,
        "rtt_p99_ms": percentile(rtt, 0.99) * 1000,
        "key_p50_ms": percentile(keys, 0.5) * 1000,
        "throughput_mb_s": chars / seconds / 1e6,
    }
    print(f"{name:8} " + "  ".join(f"{k} {v:8.2f}" for k, v in result.items()), flush=True)
    return result


# -- the contenders -----------------------------------------------------------------------------
async def bench_goval(workspace: Path, rounds: int, megabytes: int) -> dict[str, float]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "goval.cli.main", "--log-level", "warning", "serve",
        str(workspace), "--port", str(port), "--no-auth",
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await wait_http(f"http://127.0.0.1:{port}/wsv2/x")
        client: Client
        async with connect(f"http://127.0.0.1:{port}", "x", reconnect=False) as client:
            channel: Channel = await client.open("shell")

            async def read() -> str:
                while True:
                    command = await channel.receive(timeout=None)
                    if command.WhichOneof("body") == "output":
                        return command.output

            channel.send(Command(resizeTerm=ResizeTerm(rows=50, cols=160)))
            term = Terminal(lambda text: channel.send(Command(input=text)), read)
            return await measure("goval", term, rounds, megabytes)
    finally:
        server.terminate()
        await server.wait()


async def bench_jupyter(workspace: Path, rounds: int, megabytes: int) -> dict[str, float] | None:
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent))
    if jupyter is None:
        print("jupyter  not installed (pip install jupyter_server terminado): skipped")
        return None
    port, token = free_port(), secrets.token_hex(16)
    server = await asyncio.create_subprocess_exec(
        jupyter, "server", "--no-browser", "--allow-root", f"--port={port}",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={workspace}",
        "--ServerApp.log_level=WARN",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    try:
        await wait_http(f"{base}/api/status")
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.post(f"{base}/api/terminals") as response:
                name = (await response.json())["name"]
            url = f"ws://127.0.0.1:{port}/terminals/websocket/{name}?token={token}"
            async with http.ws_connect(url) as ws:
                loop = asyncio.get_running_loop()
                sending: set[asyncio.Task[None]] = set()

                def send(text: str) -> None:
                    task = loop.create_task(ws.send_str(json.dumps(["stdin", text])))
                    sending.add(task)
                    task.add_done_callback(sending.discard)

                async def read() -> str:
                    while True:
                        message = await ws.receive()
                        if message.type != aiohttp.WSMsgType.TEXT:
                            raise RuntimeError(f"jupyter terminal closed: {message}")
                        kind, *rest = json.loads(message.data)
                        if kind == "stdout":
                            return str(rest[0])

                await ws.send_str(json.dumps(["set_size", 50, 160, 800, 1280]))
                return await measure("jupyter", Terminal(send, read), rounds, megabytes)
    finally:
        server.terminate()
        await server.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    seconds, raw_bytes = raw_pty_rate(args.megabytes)
    raw_rate = raw_bytes / seconds / 1e6
    print(f"raw pty  throughput_mb_s {raw_rate:8.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="goval-bench-") as tmp:
        workspace = Path(tmp)
        goval = await bench_goval(workspace, args.rounds, args.megabytes)
        jupyter = await bench_jupyter(workspace, args.rounds, args.megabytes)
    print("\nratios (target):")
    if jupyter is not None:
        for key, target in (("rtt_p50_ms", 0.3), ("rtt_p99_ms", 0.1), ("key_p50_ms", 0.8)):
            ratio = goval[key] / jupyter[key]
            verdict = "ok" if ratio <= target else "MISSED"
            print(f"  {key:16} goval/jupyter = {ratio:6.3f}  (<= {target})  {verdict}")
    ratio = goval["throughput_mb_s"] / raw_rate
    verdict = "ok" if ratio >= 0.8 else "MISSED"
    print(f"  {'throughput':16} goval/raw pty = {ratio:6.3f}  (>= 0.8)  {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
