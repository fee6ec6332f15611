"""A flooding shell with one client that never reads (protocol §3.5: PTY services never wait)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from goval._proto.api_pb2 import Command
from goval.client import Channel
from goval.testing import running_server
from tests.server.test_backpressure import StalledClient
from tests.services.terminal_kit import eventually, isolate_shell, type_line

BUDGET = 256 * 1024


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Counter:
    """Consumes a channel's pushes, keeping only a count and the recent text."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.chars = 0
        self.tail = ""
        self._task = asyncio.get_running_loop().create_task(self._consume())

    async def _consume(self) -> None:
        async for command in self.channel:
            self.chars += len(command.output)
            self.tail = (self.tail + command.output)[-4096:]

    def stop(self) -> None:
        self._task.cancel()


async def test_a_yes_flood_with_a_stalled_client_keeps_the_other_fast_and_memory_bounded(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path, send_budget=BUDGET) as rs:
        isolate_shell(rs.server.resources, tmp_path / "home")
        stalled = await StalledClient.connect(rs.ws_url(rs.token()))
        try:
            opening = Command(ref="s")
            opening.openChan.service = "shell"
            opening.openChan.name = "flood"
            opening.openChan.action = 2  # type: ignore[assignment]
            await stalled.send_frame(opening.SerializeToString())
            async with rs.client("healthy") as client:
                channel = await client.open("shell", "flood")
                healthy = Counter(channel)
                stalled_session = next(
                    s
                    for s in rs.server.router.sessions.values()
                    if s.session_id != client.session_id
                )
                type_line(channel, "yes")
                await eventually(lambda: healthy.chars > 4 * BUDGET)
                rss_before = rss_bytes()
                chars_before = healthy.chars
                pings = []
                started = time.monotonic()
                while time.monotonic() - started < 2.0:
                    pings.append(await client.ping())
                    await asyncio.sleep(0.05)
                flooded = healthy.chars - chars_before
                rss_growth = rss_bytes() - rss_before

                channel.send(Command(input="\x03"))
                type_line(channel, 'echo flood-""over')
                await eventually(lambda: "flood-over\r\n" in healthy.tail, timeout=10)
                healthy.stop()

            # The healthy client kept streaming and stayed responsive.
            assert flooded > 1_000_000, flooded
            assert max(pings) < 0.5, max(pings)
            # The stalled session was skipped, not queued for: its queue stays near the budget.
            assert stalled_session.queued_bytes <= BUDGET + 2 * 65536, stalled_session.queued_bytes
            assert not stalled_session.closed.is_set()
            assert rss_growth < 64 * 1024 * 1024, rss_growth
        finally:
            stalled.close()
