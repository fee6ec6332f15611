"""The official client (@replit/crosis) with presence and chat: roster, join, part, messages."""

from __future__ import annotations

import asyncio
from typing import Any

from goval.testing import RunningServer
from tests.interop.crosis_driver import CrosisDriver
from tests.interop.test_crosis import assert_no_unrecoverable, connect


def find_command(driver: CrosisDriver, chan: str, body: str) -> list[dict[str, Any]]:
    return [e["cmd"][body] for e in driver.find("command", chan=chan) if body in e["cmd"]]


async def wait_command(driver: CrosisDriver, chan: str, body: str) -> list[dict[str, Any]]:
    """Every ``body`` crosis delivered on ``chan``, once there is at least one (10 s at most)."""
    for _ in range(500):
        found = find_command(driver, chan, body)
        if found:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"crosis got no {body} on {chan}: {driver.events[-10:]}")


async def test_two_crosis_clients_see_roster_join_chat_and_part(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    await connect(driver, rs, "a")
    await driver.call(
        "openChannel", client="a", chan="a-presence", service="presence", name="presence"
    )
    [roster] = await wait_command(driver, "a-presence", "roster")
    assert [u["name"] for u in roster["user"]] == ["a"]

    await connect(driver, rs, "b")
    await driver.call(
        "openChannel", client="b", chan="b-presence", service="presence", name="presence"
    )
    [b_roster] = await wait_command(driver, "b-presence", "roster")
    assert [u["name"] for u in b_roster["user"]] == ["a", "b"]
    [join] = await wait_command(driver, "a-presence", "join")
    assert join["name"] == "b" and join["roles"] == ["owner"]

    for client in ("a", "b"):
        await driver.call(
            "openChannel", client=client, chan=f"{client}-chat", service="chat", name="chat"
        )
        await driver.event("channel", chan=f"{client}-chat", count=1)
    await driver.call("request", chan="b-chat", cmd={"chatTyping": {"typing": True}})
    reply = await driver.call(
        "request", chan="b-chat", cmd={"chatMessage": {"username": "x", "text": "hi a"}}
    )
    assert "ok" in reply["cmd"], reply
    [message] = await wait_command(driver, "a-chat", "chatMessage")
    assert message == {"username": "b", "text": "hi a"}
    assert find_command(driver, "a-chat", "chatTyping") == [{"username": "b", "typing": True}]
    assert find_command(driver, "b-chat", "chatMessage") == []  # never echoed

    await driver.call("close", client="b")
    [part] = await wait_command(driver, "a-presence", "part")
    assert part["name"] == "b" and part["session"] == join["session"]
    assert_no_unrecoverable(driver)
