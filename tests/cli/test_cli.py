import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from goval.client import connect

GOVAL = [sys.executable, "-m", "goval.cli.main"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GOVAL, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_no_auth_is_refused_off_loopback(tmp_path: Path) -> None:
    result = run("serve", str(tmp_path), "--host", "0.0.0.0", "--no-auth")
    assert result.returncode == 2
    assert "--no-auth is only allowed on a loopback address" in result.stderr


def test_serving_a_missing_directory_fails_clearly(tmp_path: Path) -> None:
    result = run("serve", str(tmp_path / "missing"))
    assert result.returncode == 2 and "is not a directory" in result.stderr


def test_token_prints_a_token_with_the_requested_claims(tmp_path: Path) -> None:
    result = run(
        "token", str(tmp_path), "--user", "ann", "--id", "9", "--role", "read", "--ttl", "1h"
    )
    assert result.returncode == 0
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert (claims["name"], claims["sub"], claims["roles"]) == ("ann", "9", ["read"])
    assert (tmp_path / ".goval").is_dir()


async def test_serve_prints_a_url_that_works_and_shuts_down_on_sigterm(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *GOVAL, "serve", str(tmp_path), "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [(await asyncio.wait_for(process.stdout.readline(), 20)).decode() for _ in range(3)]
        assert "goval is serving" in lines[0]
        open_url = re.search(r"open:\s+(\S+)", lines[1])
        ws_url = re.search(r"websocket:\s+(\S+)", lines[2])
        assert open_url and ws_url and "#token=" in open_url.group(1)
        async with connect(ws_url.group(1), reconnect=False) as client:
            assert client.session_id == 2
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(client.lost.wait(), 10)
            assert client.close_code == 1001
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_ping_reports_round_trip_times(tmp_path: Path) -> None:
    env = {**os.environ}
    server = subprocess.Popen(
        [*GOVAL, "serve", str(tmp_path), "--port", "0"], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        server.stdout.readline()
        ws_url = server.stdout.readline().split()[-1]
        result = run("ping", ws_url, "--count", "3")
        assert result.returncode == 0, result.stderr
        assert re.search(r"3 pings: min [\d.]+ ms, median [\d.]+ ms", result.stdout)
    finally:
        server.terminate()
        server.wait(10)


def test_ping_to_a_dead_server_fails_with_status_1() -> None:
    result = run("ping", "ws://127.0.0.1:9/wsv2/x", "--count", "1")
    assert result.returncode == 1 and "goval ping:" in result.stderr


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("15m", 900.0), ("8h", 28800.0), ("2d", 172800.0)]
)
def test_durations_accept_unit_suffixes(text: str, seconds: float) -> None:
    from goval.server.auth import parse_duration

    assert parse_duration(text) == seconds
