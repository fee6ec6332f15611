"""The ``shell`` service with real shells on real PTYs, over a real server (protocol §4.4)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from pathlib import Path

from goval._proto.api_pb2 import Command, ResizeTerm
from goval.client import Client
from goval.identity import Identity, Role
from goval.services.shell import KEEPS_EXITING, ShellService
from goval.testing import ServiceHarness, running_server
from tests.services.terminal_kit import (
    Watcher,
    eventually,
    gone,
    isolate_shell,
    peer_output,
    render,
    type_line,
)


async def open_shell(client: Client, name: str = "shell") -> Watcher:
    return Watcher(await client.open("shell", name))


async def test_two_clients_share_one_shell_and_both_see_what_either_types(
    tmp_path: Path,
) -> None:
    async with (
        running_server(tmp_path) as rs,
        rs.client("alice") as alice,
        rs.client("bob", user_id=2) as bob,
    ):
        isolate_shell(rs.server.resources, tmp_path / "home")
        a = await open_shell(alice)
        b = await open_shell(bob)
        assert a.channel.id == b.channel.id

        type_line(a.channel, 'echo from-""alice')
        type_line(b.channel, "echo $((6*7))-from-bob")

        for watcher in (a, b):
            await watcher.wait_for("from-alice\r\n")
            await watcher.wait_for("42-from-bob\r\n")


async def test_reattached_shell_gets_the_current_screen(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs:
        isolate_shell(rs.server.resources, tmp_path / "home")
        async with rs.client("alice") as alice:
            a = await open_shell(alice)
            type_line(a.channel, "clear; printf '\\033[1;31mred\\033[0m line-%s\\n' 1 2 3")
            await a.wait_for("line-3\r\n")
            await asyncio.sleep(0.3)  # let the prompt arrive too
            seen_by_alice = render(a.text)

            async with rs.client("bob", user_id=2) as bob:
                b = await open_shell(bob)
                await eventually(lambda: bool(b.pushes))
                greeting = b.pushes[0]
                assert render(greeting.output) == seen_by_alice
                # Colours survive; the command that drew it (cleared away) is not replayed.
                assert re.search(r"\x1b\[[0-9;]*31[0-9;]*mred", greeting.output)
                assert "printf" in a.text and "printf" not in greeting.output

        # Socket loss keeps the named shell: a reconnecting client sees the same screen.
        async with rs.client("alice") as again:
            c = await open_shell(again)
            await eventually(lambda: bool(c.pushes))
            greeting = c.pushes[0]
            assert render(greeting.output) == seen_by_alice


async def test_ctrl_c_interrupts_the_foreground_command(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs, rs.client() as client:
        isolate_shell(rs.server.resources, tmp_path / "home")
        shell = await open_shell(client)
        type_line(shell.channel, 'sleep 30; echo not-""interrupted')
        await shell.wait_for("sleep 30")
        await asyncio.sleep(0.2)
        shell.channel.send(Command(input="\x03"))
        type_line(shell.channel, 'echo after-""ctrl-c')
        await shell.wait_for("after-ctrl-c\r\n", timeout=5)
        assert "not-interrupted" not in shell.text


async def test_pty_size_is_the_smallest_among_sessions_and_follows_detach(
    tmp_path: Path,
) -> None:
    async with (
        running_server(tmp_path) as rs,
        rs.client("alice") as alice,
        rs.client("bob", user_id=2) as bob,
    ):
        isolate_shell(rs.server.resources, tmp_path / "home")
        a = await open_shell(alice)
        b = await open_shell(bob)
        # With a ref, fire-and-forget bodies are answered ok{} once handled: the two sessions'
        # resizes are in place before alice asks (they travel on different sockets).
        await a.channel.request(Command(resizeTerm=ResizeTerm(rows=30, cols=100)))
        b.channel.send(Command(resizeTerm=ResizeTerm(rows=20, cols=120)))
        await b.channel.request(Command(resizeTerm=ResizeTerm(rows=0, cols=0)))  # ignored
        type_line(a.channel, "stty size")
        await a.wait_for("20 100\r\n")

        await b.channel.aclose()
        start = len(a.text)
        type_line(a.channel, "stty size")
        await a.wait_for("30 100\r\n", start=start)


async def test_the_shell_respawns_in_the_same_screen_when_it_exits(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs, rs.client() as client:
        isolate_shell(rs.server.resources, tmp_path / "home")
        shell = await open_shell(client)
        type_line(shell.channel, 'echo before-""exit; exit')
        await shell.wait_for("before-exit\r\n")
        await asyncio.sleep(0.3)
        start = len(shell.text)
        type_line(shell.channel, 'echo after-""respawn')
        await shell.wait_for("after-respawn\r\n", start=start)
        # Same emulator: the old shell's output is still on the screen.
        assert "before-exit" in "".join(render(shell.text))


async def test_no_process_survives_closing_the_channel(tmp_path: Path) -> None:
    async with running_server(tmp_path) as rs, rs.client() as client:
        isolate_shell(rs.server.resources, tmp_path / "home")
        shell = await open_shell(client, "")
        type_line(shell.channel, "sleep 1000 & echo bg=$!; (sleep 1000; true) & echo sub=$!")
        await shell.wait_for("sub=")
        await eventually(lambda: re.search(r"sub=\d+\r\n", shell.text) is not None)
        pids = [int(pid) for pid in re.findall(r"(?:bg|sub)=(\d+)\r\n", shell.text)]
        assert len(pids) == 2 and not any(gone(pid) for pid in pids)

        await shell.channel.aclose()

        await eventually(lambda: all(gone(pid) for pid in pids), timeout=5)


async def test_a_shell_that_keeps_exiting_stops_until_someone_types(tmp_path: Path) -> None:
    script = tmp_path / "flaky-shell"
    script.write_text(f"#!/bin/sh\n[ -e {tmp_path}/ok ] && exec /bin/sh\nexit 1\n")
    script.chmod(0o755)
    harness = ServiceHarness(ShellService, tmp_path)
    harness.resources.process_defaults.env = {"SHELL": str(script), "PS1": "$ "}
    try:
        peer = await harness.attach()
        await eventually(lambda: any(c.error == KEEPS_EXITING for c in peer.received))
        (tmp_path / "ok").touch()
        await harness.request(peer, Command(input="echo $((40+2))-again\r"))
        await eventually(lambda: "42-again" in peer_output(peer))
    finally:
        await harness.aclose()


@dataclasses.dataclass(eq=False)
class LaggingPeer:
    """A harness peer whose outbound queue is over budget while ``writable`` is clear."""

    session_id: int
    identity: Identity
    received: list[Command] = dataclasses.field(default_factory=list)
    writable: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    @property
    def lagging(self) -> bool:
        return not self.writable.is_set()

    async def wait_writable(self) -> None:
        await self.writable.wait()


async def test_a_lagging_session_misses_output_then_gets_a_reset_and_a_redraw(
    tmp_path: Path,
) -> None:
    harness = ServiceHarness(ShellService, tmp_path)
    isolate_shell(harness.resources, tmp_path / "home")
    try:
        fast = await harness.attach("fast")
        slow = LaggingPeer(9, Identity(9, "slow", Role.WRITE))
        slow.writable.set()
        harness.channel.attached.append(slow)  # type: ignore[arg-type]
        await harness.service.attach(slow)
        await eventually(lambda: "$" in peer_output(fast) or "#" in peer_output(fast))

        slow.writable.clear()
        before = len(slow.received)
        await harness.request(fast, Command(input='echo missed-""by-slow\r'))
        await eventually(lambda: "missed-by-slow\r\n" in peer_output(fast))
        await asyncio.sleep(0.1)
        assert slow.received[before:] == []

        slow.writable.set()
        await eventually(lambda: len(slow.received) > before)
        catch_up = slow.received[before].output
        assert catch_up.startswith("\x1bc")
        assert any("missed-by-slow" in line for line in render(catch_up))
    finally:
        await harness.aclose()
