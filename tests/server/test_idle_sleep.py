"""Idle sleep: SLEEP to every session, then a clean shutdown; any command keeps it awake."""

from __future__ import annotations

import asyncio

from goval._proto.api_pb2 import Command, ContainerState, IncRef
from goval.testing import running_server


async def test_an_idle_server_sends_sleep_then_closes_1001() -> None:
    async with running_server(idle_sleep=0.3) as rs, rs.client("alice", reconnect=False) as client:
        notice = await asyncio.wait_for(client.notices.get(), 5)
        assert notice.containerState.state == ContainerState.SLEEP
        await asyncio.wait_for(rs.server.idle_sleep.asleep.wait(), 5)
        for _ in range(50):
            if client.close_code is not None:
                break
            await asyncio.sleep(0.05)
        assert client.close_code == 1001


async def test_inc_ref_keeps_the_server_awake() -> None:
    async with running_server(idle_sleep=0.4) as rs, rs.client("alice") as client:
        for _ in range(6):
            await asyncio.sleep(0.15)
            await client.request(Command(incRef=IncRef()))
        assert not rs.server.idle_sleep.asleep.is_set()
        assert client.notices.empty()
