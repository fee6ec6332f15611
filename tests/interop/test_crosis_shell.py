"""The official client, @replit/crosis, on goval's shell: alone and shared by two clients."""

from __future__ import annotations

import asyncio
from pathlib import Path

from goval.testing import RunningServer
from tests.interop.crosis_driver import CrosisDriver
from tests.interop.test_crosis import assert_no_unrecoverable, connect
from tests.services.terminal_kit import isolate_shell


def output_of(driver: CrosisDriver, chan: str) -> str:
    return "".join(event["cmd"].get("output", "") for event in driver.find("command", chan=chan))


async def wait_output(driver: CrosisDriver, chan: str, needle: str, within: float = 10) -> None:
    """Wait until the output crosis delivered on ``chan`` contains ``needle``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while needle not in output_of(driver, chan):
        if loop.time() > deadline:
            tail = output_of(driver, chan)[-500:]
            raise AssertionError(f"{needle!r} not in the output of {chan}: {tail!r}")
        await asyncio.sleep(0.02)


async def type_in(driver: CrosisDriver, chan: str, text: str) -> None:
    reply = await driver.call("request", chan=chan, cmd={"input": text})
    assert "ok" in reply["cmd"], reply  # input with a ref is answered ok{}
    assert reply["cmd"]["ref"] == reply["sentRef"]


async def test_crosis_opens_a_shell_types_and_sees_the_output(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    isolate_shell(rs.server.resources, Path(rs.workspace) / ".home")
    await connect(driver, rs)
    await driver.call("openChannel", client="a", chan="sh", service="shell")
    await driver.event("channel", chan="sh", count=1)
    await type_in(driver, "sh", 'echo crosis-""shell\r')
    await wait_output(driver, "sh", "crosis-shell\r\n")
    await driver.call("closeChannel", chan="sh")
    assert_no_unrecoverable(driver)


async def test_two_crosis_clients_share_a_named_shell(
    rs: RunningServer, driver: CrosisDriver
) -> None:
    isolate_shell(rs.server.resources, Path(rs.workspace) / ".home")
    await connect(driver, rs, "a")
    await connect(driver, rs, "b")
    await driver.call("openChannel", client="a", chan="sa", service="shell", name="pair")
    first = await driver.event("channel", chan="sa", count=1)
    await type_in(driver, "sa", 'echo first-""line\r')
    await wait_output(driver, "sa", "first-line\r\n")

    await driver.call("openChannel", client="b", chan="sb", service="shell", name="pair")
    second = await driver.event("channel", chan="sb", count=1)
    assert second["id"] == first["id"]
    # The late client's greeting redraws what is already on the screen.
    await wait_output(driver, "sb", "first-line")

    await type_in(driver, "sb", 'echo from-""b\r')
    await wait_output(driver, "sa", "from-b\r\n")
    await wait_output(driver, "sb", "from-b\r\n")
    await driver.call("request", chan="sa", cmd={"resizeTerm": {"rows": 20, "cols": 70}})
    await type_in(driver, "sb", "stty size\r")
    await wait_output(driver, "sb", "20 70\r\n")
    assert_no_unrecoverable(driver)
