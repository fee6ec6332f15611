"""``goval who|chat|metrics|profile|toast`` against a real server, as a user would run them."""

from __future__ import annotations

import asyncio
import gzip
import sys
from pathlib import Path

from goval._proto.api_pb2 import ChatMessage, Command
from goval.identity import Role
from goval.testing import RunningServer, running_server

GOVAL = [sys.executable, "-m", "goval.cli.main"]


async def goval(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *GOVAL,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def url(rs: RunningServer, name: str = "cli", role: Role = Role.OWNER) -> str:
    return rs.ws_url(rs.token(name, role, user_id=5))


async def test_who_lists_the_attached_sessions() -> None:
    async with running_server() as rs, rs.client("alice") as alice:
        await alice.open("presence", "presence")
        status, out, _ = await goval("who", url(rs, "carol", Role.READ))
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 2
    assert "alice" in lines[0] and "owner" in lines[0]
    assert "carol" in lines[1] and "read" in lines[1] and "(you)" in lines[1]


async def test_chat_prints_scrollback_and_sends_stdin_lines() -> None:
    async with running_server() as rs, rs.client("alice") as alice:
        chat = await alice.open("chat", "chat")
        await chat.request(Command(chatMessage=ChatMessage(text="earlier")))
        status, out, _ = await goval(
            "chat", url(rs, "bob", Role.READ), stdin=b"hello from the cli\n"
        )
        got = await chat.receive(timeout=5)
    assert status == 0
    assert "<alice> earlier" in out
    assert "* here: " in out and "bob" in out
    assert (got.chatMessage.username, got.chatMessage.text) == ("bob", "hello from the cli")


async def test_metrics_prints_prometheus_text_and_refuses_a_writer() -> None:
    async with running_server() as rs:
        status, out, _ = await goval("metrics", url(rs))
        refused, _, err = await goval("metrics", url(rs, "w", Role.WRITE))
    assert status == 0 and "# TYPE goval_sessions gauge" in out
    assert refused == 1 and "403" in err


async def test_profile_writes_a_gzipped_profile(tmp_path: Path) -> None:
    output = tmp_path / "cpu.pb.gz"
    async with running_server() as rs:
        status, _, err = await goval("profile", url(rs), "--seconds", "1", "-o", str(output))
    assert status == 0, err
    assert len(gzip.decompress(output.read_bytes())) > 0


async def test_toast_reaches_connected_sessions() -> None:
    async with running_server() as rs, rs.client("alice") as alice:
        status, _, err = await goval("toast", url(rs), "back in 5 minutes")
        notice = await asyncio.wait_for(alice.notices.get(), 5)
    assert status == 0, err
    assert notice.toast.text == "back in 5 minutes"
